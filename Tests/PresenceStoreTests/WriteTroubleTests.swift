import Testing

@testable import PresenceStore

/// How long a write that could not reach the bucket may be tried again (``WriteTrouble``).
struct WriteTroubleTests {
    let zero = ContinuousClock.now
    let budget = Duration.seconds(5)

    @Test func withoutTroubleARequestHasItsWholeBudget() {
        let trouble = WriteTrouble()
        #expect(trouble.deadline(requestStarted: zero, budget: budget) == zero + budget)
    }

    @Test func youngTroubleLeavesTheRequestItsBudgetAndOldTroubleNone() {
        var trouble = WriteTrouble()
        trouble.failed(at: zero)
        // A request that started when the trouble began waits it out, up to its own budget.
        #expect(trouble.deadline(requestStarted: zero, budget: budget) == zero + budget)
        // A later failure does not move the start of the trouble.
        trouble.failed(at: zero + .seconds(3))
        #expect(trouble.since == zero)
        // A request 4 s into the trouble may wait 1 s more; one after 5 s not at all.
        #expect(trouble.deadline(requestStarted: zero + .seconds(4), budget: budget) == zero + budget)
        #expect(trouble.deadline(requestStarted: zero + .seconds(6), budget: budget) < zero + .seconds(6))
    }

    @Test func aStoredWriteEndsTheTrouble() {
        var trouble = WriteTrouble()
        trouble.failed(at: zero)
        trouble.succeeded()
        #expect(trouble.since == nil)
        #expect(trouble.deadline(requestStarted: zero + .seconds(60), budget: budget) == zero + .seconds(65))
    }
}
