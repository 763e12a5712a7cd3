import Synchronization

/// Whether the HTTP server has begun to drain for shutdown. Set once, by the first connection
/// that sees graceful shutdown begin; `/health/ready` reports not ready from then on.
public final class HTTPDrain: Sendable {
    private let draining = Atomic(false)

    /// Creates a drain that has not begun.
    public init() {}

    /// Whether graceful shutdown has begun.
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Marks the drain as begun.
    func begin() { draining.store(true, ordering: .relaxed) }
}
