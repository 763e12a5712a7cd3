import Synchronization

/// A value behind a lock that threads started by a test can share (a `Mutex` itself cannot be
/// captured by an escaping closure).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    /// Runs `body` with the value, under the lock.
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }

    /// The current value.
    var value: Value { mutex.withLock { $0 } }
}
