import Testing

@testable import PresenceStore

/// Readiness while JetStream refuses writes for lack of storage (issue: a limit reached with
/// space on the disk left a node answering 507 while it said ready).
struct StorageRefusalsTests {
    let start = ContinuousClock.now

    @Test func noRefusalNoProblem() {
        #expect(StorageRefusals().problem(now: start) == nil)
    }

    @Test func aRefusalMakesTheStoreNotReadyAndSaysWhatToDo() throws {
        var refusals = StorageRefusals()
        refusals.refused(at: start)
        let problem = try #require(refusals.problem(now: start + .seconds(1)))
        #expect(problem.contains("nats.max_store"))
    }

    @Test func aStoredWriteEndsIt() {
        var refusals = StorageRefusals()
        refusals.refused(at: start)
        refusals.stored()
        #expect(refusals.problem(now: start) == nil)
    }

    @Test func withoutWritesItLapsesSoTheNextWriteFindsOut() {
        var refusals = StorageRefusals()
        refusals.refused(at: start)
        #expect(refusals.problem(now: start + StorageRefusals.window - .milliseconds(1)) != nil)
        #expect(refusals.problem(now: start + StorageRefusals.window) == nil)
        // Each new refusal starts the window again.
        refusals.refused(at: start + .seconds(4))
        #expect(refusals.problem(now: start + .seconds(8)) != nil)
    }
}
