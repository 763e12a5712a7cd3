internal import CNATS
import Foundation

/// A watcher of every key of a bucket.
///
/// ``deliver(idleTimeout:to:)`` hands its events to a handler on a thread of the watcher's
/// own (nats.c's `kvWatcher_Next` blocks), so the caller's task only awaits the end of the
/// delivery. ``stop()`` may be called from any thread and ends the delivery.
///
/// `@unchecked Sendable`: owns a `kvWatcher` handle; nats.c allows `kvWatcher_Stop` from
/// another thread while `kvWatcher_Next` blocks. Destroyed in `deinit` only.
public final class KeyValueWatcher: @unchecked Sendable {
    /// What the watcher delivers.
    public enum Event: Sendable, Equatable {
        /// A value or marker.
        case entry(KeyValueEntry)
        /// Every value that existed when the watcher started has been delivered (`count` entries).
        case initialValuesDone(count: Int)
        /// Nothing arrived within the idle timeout.
        case timeout
    }

    let handle: OpaquePointer
    let bucket: KeyValueBucket

    init(handle: OpaquePointer, bucket: KeyValueBucket) {
        self.handle = handle
        self.bucket = bucket
    }

    /// Delivers the watcher's events to `handler`, in order, on a thread of the watcher's own,
    /// and returns once the delivery ended: the watcher was stopped (``stop()``, or the calling
    /// task was cancelled) or `handler` returned false.
    ///
    /// `handler` runs on that thread, one event at a time, and must not block: the next event
    /// waits for it (which also keeps a slow consumer from piling events up in memory).
    /// - Parameter idleTimeout: after this long without an event, `handler` gets ``Event/timeout``.
    /// - Throws: ``NATSError`` when the watcher failed.
    public func deliver(idleTimeout: Duration, to handler: @escaping @Sendable (Event) -> Bool) async throws(NATSError) {
        let ended = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, NATSError>, Never>) in
                let thread = Thread { [self] in
                    // Named from inside: on Linux a name set before `start()` does not reach the thread.
                    Thread.current.name = "nats-kv-watcher"
                    continuation.resume(returning: deliverBlocking(idleTimeout: idleTimeout, to: handler))
                }
                thread.start()
            }
        } onCancel: {
            stop()
        }
        try ended.get()
    }

    private func deliverBlocking(idleTimeout: Duration, to handler: (Event) -> Bool) -> Result<Void, NATSError> {
        var delivered = 0
        while true {
            var entry: OpaquePointer?
            let status = kvWatcher_Next(&entry, handle, max(1, idleTimeout.milliseconds))
            let event: Event
            switch status {
            case NATS_OK:
                if let entry {
                    event = .entry(KeyValueEntry(cEntry: entry))
                    kvEntry_Destroy(entry)
                    delivered += 1
                } else {
                    event = .initialValuesDone(count: delivered)
                }
            case NATS_TIMEOUT:
                event = .timeout
            case NATS_ILLEGAL_STATE, NATS_INVALID_SUBSCRIPTION:
                return .success(())  // stopped
            default:
                return .failure(NATSError(status: status, context: "KV watcher"))
            }
            guard handler(event) else { return .success(()) }
        }
    }

    /// Stops the watcher: a delivery in progress ends.
    public func stop() {
        kvWatcher_Stop(handle)
    }

    deinit {
        kvWatcher_Stop(handle)
        kvWatcher_Destroy(handle)
    }
}
