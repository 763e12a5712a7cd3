/// When to give freed memory back to the system: after streams closed in bulk, never on
/// the request path.
///
/// glibc keeps what a flood of streams freed in its arenas, so the node's resident memory
/// stays at the flood's peak; `malloc_trim` returns it but walks every arena, so it runs
/// only when at least ``minimumClosed`` streams closed since the most that were open, and
/// then on each of the next ``settleRounds`` observations: the connections of ended streams
/// release their buffers over the following seconds.
public struct MemoryTrimPolicy: Sendable, Equatable {
    /// Streams that must have closed, from the most open since the last trim, for a trim.
    public var minimumClosed: Int
    /// Further trims, one per observation, after a bulk close.
    public var settleRounds: Int
    private var peak = 0
    private var owedTrims = 0

    /// A policy that trims after `minimumClosed` streams closed, and `settleRounds` times after.
    public init(minimumClosed: Int = 100, settleRounds: Int = 5) {
        self.minimumClosed = max(1, minimumClosed)
        self.settleRounds = max(0, settleRounds)
    }

    /// Takes the number of open streams now; true when memory should be trimmed.
    public mutating func observe(openStreams open: Int) -> Bool {
        peak = max(peak, open)
        if peak - open >= minimumClosed {
            peak = open
            owedTrims = settleRounds
            return true
        }
        guard owedTrims > 0 else { return false }
        owedTrims -= 1
        return true
    }
}
