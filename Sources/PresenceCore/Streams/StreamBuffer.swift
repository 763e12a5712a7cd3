import NIOConcurrencyHelpers
import Synchronization

/// The bytes all live streams hold for clients that have not received them yet, against a
/// bound per stream and a cap on the sum (`stream.max_buffered_bytes`,
/// `stream.max_total_buffered_bytes`).
public final class StreamMemoryBudget: Sendable {
    /// The most bytes one stream may hold; past it the stream is cut off as a slow consumer.
    public let maxPerStream: Int
    /// The most bytes all streams together may hold; past it, streams that are behind (hold
    /// at least ``slack``) are cut off when they would grow.
    public let maxTotal: Int
    /// A stream holding less than this is between writes, not behind: the total cap never cuts it.
    public let slack: Int
    private let total = Atomic(0)

    /// A budget; the defaults bound nothing.
    public init(maxPerStream: Int = .max, maxTotal: Int = .max, slack: Int = 16_384) {
        self.maxPerStream = max(1, maxPerStream)
        self.maxTotal = max(1, maxTotal)
        self.slack = max(0, slack)
    }

    /// Bytes held by all streams right now.
    public var bufferedBytes: Int { total.load(ordering: .relaxed) }

    fileprivate func add(_ bytes: Int) -> Int {
        total.wrappingAdd(bytes, ordering: .relaxed).newValue
    }

    fileprivate func subtract(_ bytes: Int) {
        total.wrappingSubtract(bytes, ordering: .relaxed)
    }
}

/// The bytes one stream holds that its client has not received: events queued for it in the
/// hub, and bytes written to its connection that have not reached the socket yet.
public final class StreamBuffer: Sendable {
    private struct State {
        var held = 0
        var closed = false
    }

    private let state = NIOLockedValueBox(State())
    private let budget: StreamMemoryBudget

    /// A buffer counted against `budget`.
    public init(budget: StreamMemoryBudget) {
        self.budget = budget
    }

    /// Bytes held now (0 once closed).
    public var heldBytes: Int { state.withLockedValue { $0.held } }

    /// Takes `bytes` if the stream's bound and the total cap allow it.
    /// - Returns: false, taking nothing, when the stream must be cut off (or is closed).
    public func reserve(_ bytes: Int) -> Bool {
        state.withLockedValue { state in
            guard !state.closed, state.held + bytes <= budget.maxPerStream else { return false }
            if budget.add(bytes) > budget.maxTotal && state.held >= budget.slack {
                budget.subtract(bytes)
                return false
            }
            state.held += bytes
            return true
        }
    }

    /// Counts `bytes` that are already buffered (a connection accepted them).
    /// - Returns: false when the stream is now over its bound, or behind while the total is
    ///   over its cap: it must be cut off.
    public func add(_ bytes: Int) -> Bool {
        state.withLockedValue { state in
            guard !state.closed else { return true }
            let wasBehind = state.held >= budget.slack
            state.held += bytes
            let total = budget.add(bytes)
            return state.held <= budget.maxPerStream && !(total > budget.maxTotal && wasBehind)
        }
    }

    /// Gives back `bytes` that were delivered (or dropped); nothing once closed.
    public func release(_ bytes: Int) {
        state.withLockedValue { state in
            guard !state.closed else { return }
            let released = min(bytes, state.held)
            state.held -= released
            budget.subtract(released)
        }
    }

    /// Gives back everything; later calls count nothing.
    public func close() {
        state.withLockedValue { state in
            guard !state.closed else { return }
            state.closed = true
            budget.subtract(state.held)
            state.held = 0
        }
    }
}
