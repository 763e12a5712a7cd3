import NIOConcurrencyHelpers

/// A value behind a lock that threads started by a test can share, with a shorthand to read it.
final class Locked<Value: Sendable>: Sendable {
    private let box: NIOLockedValueBox<Value>

    init(_ value: Value) { box = NIOLockedValueBox(value) }

    /// Runs `body` with the value, under the lock.
    func withLockedValue<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        box.withLockedValue { body(&$0) }
    }

    /// The current value.
    var value: Value { box.withLockedValue { $0 } }
}
