import Synchronization

/// Counts open stream handlers against a limit.
final class StreamCounter: Sendable {
    private let count = Atomic(0)

    /// Takes a place if fewer than `limit` are taken.
    func acquire(limit: Int) -> Bool {
        while true {
            let current = count.load(ordering: .relaxed)
            guard current < limit else { return false }
            if count.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing).exchanged {
                return true
            }
        }
    }

    /// Gives a place back.
    func release() { count.subtract(1, ordering: .acquiringAndReleasing) }
}
