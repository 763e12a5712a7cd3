import PresenceNode
import Testing

/// When the node gives memory back to the system: after streams closed in bulk, and a few
/// times more while their connections let go of their buffers; never while streams only
/// come and go a few at a time.
struct MemoryTrimPolicyTests {
    @Test func trimsAfterABulkCloseAndWhileItSettles() {
        var policy = MemoryTrimPolicy(minimumClosed: 100, settleRounds: 2)
        let openStreams = [0, 1_500, 2_000, 400, 0, 0, 0, 0, 0]
        let decisions = openStreams.map { policy.observe(openStreams: $0) }
        // 1,600 closed since the most open; another 400; two more while it settles; then quiet.
        #expect(decisions == [false, false, false, true, true, true, true, false, false])
    }

    @Test func streamsThatComeAndGoAFewAtATimeNeverTrim() {
        var policy = MemoryTrimPolicy(minimumClosed: 100)
        let decisions = (0..<1_000).map { round in policy.observe(openStreams: round % 2 == 0 ? 540 : 460) }
        #expect(!decisions.contains(true))
    }
}
