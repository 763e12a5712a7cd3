import Testing

/// Suites that must not overlap each other in the parallel run: the clustered centers load
/// the machine with four nodes, their kills and restarts, and the slow-client attack needs
/// the node whose descriptors it exhausts to keep up (on two cores it once did not, with both
/// running: see the slow-client test's failure output).
@Suite(.serialized) enum HeavyProcessSuites {}
