internal import CNATS
import Foundation
import NIOConcurrencyHelpers

/// A watcher of every key of a bucket.
///
/// ``deliver(idleTimeout:to:)`` hands its events to a handler on a thread of the watcher's
/// own (nats.c's `kvWatcher_Next` blocks), so the caller's task only awaits the end of the
/// delivery. ``stop()`` may be called from any thread, never blocks, and ends the delivery
/// within ``stopCheckInterval``.
///
/// nats.c's `kvWatcher_Stop` is not called by ``stop()``: it deletes the watcher's consumer
/// with a request that waits up to the JetStream context's timeout (a minute for the
/// service's watchers) when the server that held the consumer is gone, and it holds the
/// watcher's lock meanwhile. It runs when the watcher is released, on a thread of its own.
///
/// `@unchecked Sendable`: owns a `kvWatcher` handle that only the delivery thread uses while
/// it runs, and the stop flag is behind a lock. Stopped and destroyed on release only.
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
    private let stopRequested = NIOLockedValueBox(false)

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

    /// How often a waiting delivery looks at the stop flag.
    static let stopCheckInterval = Duration.milliseconds(100)

    private func deliverBlocking(idleTimeout: Duration, to handler: (Event) -> Bool) -> Result<Void, NATSError> {
        var delivered = 0
        var idleSince = ContinuousClock.now
        // Waits in short slices: ``stop()`` only sets a flag (see the type), and is noticed
        // between two slices; ``Event/timeout`` still comes after `idleTimeout` of silence.
        let slice = max(1, min(idleTimeout, Self.stopCheckInterval).milliseconds)
        while true {
            if stopRequested.withLockedValue({ $0 }) { return .success(()) }
            var entry: OpaquePointer?
            let status = kvWatcher_Next(&entry, handle, slice)
            if stopRequested.withLockedValue({ $0 }) {
                if let entry { kvEntry_Destroy(entry) }
                return .success(())
            }
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
                guard ContinuousClock.now - idleSince >= idleTimeout else { continue }
                event = .timeout
            case NATS_ILLEGAL_STATE, NATS_INVALID_SUBSCRIPTION:
                return .success(())  // stopped
            default:
                return .failure(NATSError(status: status, context: "KV watcher"))
            }
            idleSince = ContinuousClock.now
            guard handler(event) else { return .success(()) }
        }
    }

    /// Stops the watcher: a delivery in progress ends within ``stopCheckInterval``. Never blocks.
    public func stop() {
        stopRequested.withLockedValue { $0 = true }
    }

    deinit {
        // Deleting the consumer may wait a minute for a server that is gone: not on the
        // releasing thread, which may be the cooperative pool or a NIO event loop.
        let owned = OwnedWatcher(handle: handle, bucket: bucket)
        Thread.detachNewThread { owned.stopAndDestroy() }
    }
}

/// A released watcher's handle on its way to the thread that stops and destroys it.
///
/// `@unchecked Sendable`: a C handle that nothing else references any more (its
/// ``KeyValueWatcher`` is gone); the bucket is kept so its JetStream context outlives it.
private struct OwnedWatcher: @unchecked Sendable {
    let handle: OpaquePointer
    let bucket: KeyValueBucket

    func stopAndDestroy() {
        kvWatcher_Stop(handle)
        kvWatcher_Destroy(handle)
        withExtendedLifetime(bucket) {}
    }
}
