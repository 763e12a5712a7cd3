internal import CNATS

/// A watcher of every key of a bucket.
///
/// ``next(timeout:)`` blocks: run it on a thread of its own. ``stop()`` may be called from
/// any thread and makes a blocked ``next(timeout:)`` return ``Event/stopped``.
///
/// `@unchecked Sendable`: owns a `kvWatcher` handle; nats.c allows `kvWatcher_Stop` from
/// another thread while `kvWatcher_Next` blocks. Destroyed in `deinit` only.
public final class KeyValueWatcher: @unchecked Sendable {
    /// What ``next(timeout:)`` found.
    public enum Event: Sendable, Equatable {
        /// A value or marker.
        case entry(KeyValueEntry)
        /// Every value that existed when the watcher started has been delivered.
        case initialValuesDone
        /// Nothing arrived within the timeout.
        case timeout
        /// The watcher was stopped.
        case stopped
    }

    let handle: OpaquePointer
    let bucket: KeyValueBucket

    init(handle: OpaquePointer, bucket: KeyValueBucket) {
        self.handle = handle
        self.bucket = bucket
    }

    /// Waits up to `timeout` for the next event.
    public func next(timeout: Duration) throws(NATSError) -> Event {
        var entry: OpaquePointer?
        let status = kvWatcher_Next(&entry, handle, max(1, timeout.milliseconds))
        switch status {
        case NATS_OK:
            guard let entry else { return .initialValuesDone }
            defer { kvEntry_Destroy(entry) }
            return .entry(KeyValueEntry(cEntry: entry))
        case NATS_TIMEOUT:
            return .timeout
        case NATS_ILLEGAL_STATE, NATS_INVALID_SUBSCRIPTION:
            return .stopped
        default:
            throw NATSError(status: status, context: "KV watcher")
        }
    }

    /// Stops the watcher.
    public func stop() {
        kvWatcher_Stop(handle)
    }

    deinit {
        kvWatcher_Stop(handle)
        kvWatcher_Destroy(handle)
    }
}
