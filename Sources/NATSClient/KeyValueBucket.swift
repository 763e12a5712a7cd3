internal import CNATS

/// A JetStream KV bucket: get, compare-and-set put, watch.
///
/// Every method but ``put(_:value:expecting:)`` blocks its calling thread on the network:
/// call it from a thread of its own or a blocking pool, never from Swift's cooperative pool
/// or an event loop.
///
/// `@unchecked Sendable`: owns a `kvStore` handle that nats.c allows to be used from many
/// threads; destroyed in `deinit` only, and it keeps its JetStream context alive.
public final class KeyValueBucket: @unchecked Sendable {
    let handle: OpaquePointer
    let jetStream: JetStream
    /// The bucket name.
    public let bucket: String
    private let putSubjectPrefix: String

    init(handle: OpaquePointer, jetStream: JetStream, bucket: String) {
        self.handle = handle
        self.jetStream = jetStream
        self.bucket = bucket
        // A client outside the bucket's domain publishes through that domain's API prefix.
        self.putSubjectPrefix = jetStream.domain.map { "$JS.\($0).API.$KV.\(bucket)." } ?? "$KV.\(bucket)."
    }

    /// The latest entry of `key`, or nil when the key has no value (never set, deleted or purged).
    public func get(_ key: String) throws(NATSError) -> KeyValueEntry? {
        var entry: OpaquePointer?
        let status = kvStore_Get(&entry, handle, key)
        if status == NATS_NOT_FOUND { return nil }
        guard status == NATS_OK, let entry else { throw NATSError(status: status, context: "KV get") }
        defer { kvEntry_Destroy(entry) }
        return KeyValueEntry(cEntry: entry)
    }

    /// The condition a put must meet.
    public enum Expectation: Sendable, Equatable {
        /// The key must have no value yet.
        case noValue
        /// The key's last revision must be this one.
        case revision(UInt64)
    }

    /// Stores `value` under `key` if `expectation` holds; returns the new revision once
    /// JetStream has acknowledged it (or fails after the context's timeout).
    ///
    /// The publish is sent from the calling thread without waiting on the network (it waits
    /// only when the context's ``AsyncPublishing/maxPending`` publishes are in flight, at most
    /// its `stallWait`); the task resumes from the acknowledgement handler.
    /// - Throws: ``NATSError`` whose `isWrongLastSequence` is true when the expectation failed.
    public func put(_ key: String, value: [UInt8], expecting expectation: Expectation) async throws(NATSError) -> UInt64 {
        var options = jsPubOptions()
        try check(jsPubOptions_Init(&options), "jsPubOptions_Init")
        // At least 1 ms: 0 would switch off nats.c's timer, and a lost acknowledgement would
        // leave the waiter waiting for ever.
        options.MaxWait = max(1, jetStream.timeout.milliseconds)
        switch expectation {
        case .noValue: options.ExpectNoMessage = true
        case .revision(let revision): options.ExpectLastSubjectSeq = revision
        }
        var created: OpaquePointer?
        let subject = putSubjectPrefix + key
        let status = value.withUnsafeBytes { bytes in
            natsMsg_Create(&created, subject, nil, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        }
        guard status == NATS_OK, let message = created else {
            var error = NATSError(status: status, context: "KV put")
            error.wasNotSent = true
            throw error
        }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<UInt64, NATSError>, Never>) in
            let acknowledgements = jetStream.acknowledgements
            acknowledgements.register(message, continuation)
            var owned: OpaquePointer? = message
            let status = js_PublishMsgAsync(jetStream.handle, &owned, &options)
            if status != NATS_OK {
                // Not sent: the message is still ours and no acknowledgement will come.
                // The waiter is taken out before the message is freed: a message created
                // afterwards may get the same address and register under it.
                var error = NATSError(status: status, context: "KV put")
                error.wasNotSent = true
                let waiter = acknowledgements.take(message)
                natsMsg_Destroy(owned)
                waiter?.resume(returning: .failure(error))
            }
        }
        return try result.get()
    }

    /// Stores `value` under `key` without waiting for the acknowledgement (at most the
    /// context's ``AsyncPublishing/maxPending`` in flight; blocks while that many are pending). Pair with
    /// ``JetStream/waitForAsyncPublishes(timeout:)``. Used by the benchmarks to measure the
    /// raw write ceiling; the service itself always waits for each acknowledgement.
    public func putAsync(_ key: String, value: [UInt8]) throws(NATSError) {
        let subject = putSubjectPrefix + key
        let status = value.withUnsafeBytes { bytes in
            js_PublishAsync(jetStream.handle, subject, bytes.baseAddress, Int32(bytes.count), nil)
        }
        try check(status, "KV async put")
    }

    /// Checks within `timeout` that the bucket's JetStream server answers.
    public func ping(timeout: Duration) throws(NATSError) {
        try jetStream.ping(timeout: timeout)
    }

    /// The state of the bucket's stream within `timeout`; also tells that its JetStream
    /// server (the hub, for a leaf) answers. Blocks the calling thread.
    public func state(timeout: Duration) throws(NATSError) -> StreamState {
        try jetStream.streamState("KV_" + bucket, timeout: timeout)
    }

    /// Creates the bucket again with `configuration` if its stream is gone (deleted behind the
    /// service's back); this handle keeps working either way. Blocks the calling thread.
    public func recreateIfMissing(_ configuration: KeyValueConfiguration) throws(NATSError) {
        _ = try jetStream.keyValue(configuration)
    }

    /// Makes the bucket's stream refuse roll-up headers (see ``JetStream/refuseRollups(_:)``).
    /// - Returns: whether the stream had to be changed.
    @discardableResult
    public func refuseRollups() throws(NATSError) -> Bool {
        try jetStream.refuseRollups("KV_" + bucket)
    }

    /// Starts a watcher of every key: first the latest value of each, then every change.
    /// - Parameter timeout: how long creating it may take (with a million keys nats-server
    ///   2.9 needs seconds to set up the last-value-per-key consumer).
    public func watchAll(timeout: Duration = .seconds(30)) throws(NATSError) -> KeyValueWatcher {
        var options = kvWatchOptions()
        try check(kvWatchOptions_Init(&options), "kvWatchOptions_Init")
        options.Timeout = max(1, timeout.milliseconds)
        var watcher: OpaquePointer?
        let status = kvStore_WatchAll(&watcher, handle, &options)
        guard status == NATS_OK, let watcher else { throw NATSError(status: status, context: "KV watch") }
        return KeyValueWatcher(handle: watcher, bucket: self)
    }

    deinit {
        kvStore_Destroy(handle)
    }
}

extension KeyValueEntry {
    init(cEntry entry: OpaquePointer) {
        let length = Int(kvEntry_ValueLen(entry))
        let bytes: [UInt8]
        if length > 0, let pointer = kvEntry_Value(entry) {
            bytes = Array(UnsafeRawBufferPointer(start: pointer, count: length))
        } else {
            bytes = []
        }
        let operation: Operation
        switch kvEntry_Operation(entry) {
        case kvOp_Delete: operation = .delete
        case kvOp_Purge: operation = .purge
        default: operation = .put
        }
        self.init(
            key: String(cString: kvEntry_Key(entry)), value: bytes, revision: kvEntry_Revision(entry),
            operation: operation)
    }
}
