import Testing

@testable import EmbeddedNATS

/// Reading a leaf's nats-server log: the cause in an operator's words, once per change.
struct LeafnodeProblemsTests {
    let refused =
        #"Error trying to connect as leafnode to remote server "10.0.0.5:7422" (attempt 7): dial tcp 10.0.0.5:7422: connect: connection refused"#

    @Test func eachKindOfFailureIsNamed() {
        #expect(LeafnodeProblems.describe(refused) == "cannot connect to the hub 10.0.0.5:7422: connection refused (dial tcp 10.0.0.5:7422)")
        let denied = LeafnodeProblems.describe("127.0.0.1:7422 - lid:4 - Leafnode Error 'Authorization Violation'")
        #expect(denied?.contains("refused the leaf credential") == true)
        #expect(denied?.contains("127.0.0.1:7422") == true)
        let tls = LeafnodeProblems.describe("127.0.0.1:7422 - lid:4 - TLS leafnode handshake error: x509: certificate signed by unknown authority")
        #expect(tls?.contains("TLS handshake") == true && tls?.contains("unknown authority") == true)
        #expect(LeafnodeProblems.describe("Server is ready") == nil)
    }

    @Test func aRepeatedProblemIsReportedOnceAndRemindedAfterAMinute() {
        var problems = LeafnodeProblems()
        let start = ContinuousClock.now
        #expect(problems.observe(refused, at: start) == .report)
        #expect(problems.observe(refused.replacingOccurrences(of: "attempt 7", with: "attempt 8"), at: start + .seconds(1)) == .quiet)
        #expect(problems.observe("127.0.0.1:7422 - lid:9 - Leafnode connection closed: Client Closed", at: start + .seconds(1)) == .quiet)
        #expect(problems.observe(refused, at: start + .seconds(61)) == .report)
        #expect(problems.observe("Server is ready", at: start + .seconds(61)) == .unrelated)
    }

    @Test func aProblemNotRepeatedForFiveSecondsIsOver() {
        var problems = LeafnodeProblems()
        let start = ContinuousClock.now
        _ = problems.observe(refused, at: start)
        #expect(problems.problem(at: start + .seconds(4)) != nil)
        #expect(problems.problem(at: start + .seconds(6)) == nil)
        #expect(problems.observe("127.0.0.1:7422 - lid:9 - Leafnode connection created", at: start + .seconds(6)) == .unrelated)
    }
}
