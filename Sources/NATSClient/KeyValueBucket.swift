internal import CNATS

/// A JetStream KV bucket: get, compare-and-set put, watch.
///
/// Every method is `async` and safe to call from any task: the blocking nats.c calls run on
/// the client's own thread pool; a put is sent from the caller's thread without waiting on
/// the network and resumes from the acknowledgement handler.
///
/// `@unchecked Sendable`: owns a `kvStore` handle that nats.c allows to be used from many
/// threads; destroyed in `deinit` only, and it keeps its JetStream context alive.
public final class KeyValueBucket: @unchecked Sendable {
    let handle: OpaquePointer
    /// The JetStream context the bucket was bound through (its domain and time-out).
    public let jetStream: JetStream
    /// The bucket name.
    public let bucket: String
    let putSubjectPrefix: String

    init(handle: OpaquePointer, jetStream: JetStream, bucket: String) {
        self.handle = handle
        self.jetStream = jetStream
        self.bucket = bucket
        // A client outside the bucket's domain publishes through that domain's API prefix.
        self.putSubjectPrefix = jetStream.domain.map { "$JS.\($0).API.$KV.\(bucket)." } ?? "$KV.\(bucket)."
    }

    /// The latest entry of `key`, or nil when the key has no value (never set, deleted or purged).
    public func get(_ key: String) async throws(NATSError) -> KeyValueEntry? {
        try await BlockingCalls.run { () throws(NATSError) in try self.getBlocking(key) }
    }

    private func getBlocking(_ key: String) throws(NATSError) -> KeyValueEntry? {
        var entry: OpaquePointer?
        let status = kvStore_Get(&entry, handle, key)
        if status == NATS_NOT_FOUND { return nil }
        guard status == NATS_OK, let entry else { throw NATSError(status: status, context: "KV get") }
        defer { kvEntry_Destroy(entry) }
        return KeyValueEntry(cEntry: entry)
    }

    /// The revision of the delete (or purge) marker that is the last entry of `key`, which
    /// ``get(_:)`` reports as no entry; nil when the key never had an entry or its last
    /// entry is a value. Read in one request, so the answer is about one and the same entry.
    public func deleteMarkerRevision(of key: String) async throws(NATSError) -> UInt64? {
        try await BlockingCalls.run { () throws(NATSError) in
            var message: OpaquePointer?
            var code = jsErrCode(0)
            let status = js_GetLastMsg(&message, self.jetStream.handle, "KV_" + self.bucket, "$KV.\(self.bucket).\(key)", nil, &code)
            if status == NATS_NOT_FOUND { return nil }
            guard status == NATS_OK, let message else { throw NATSError(status: status, context: "KV last revision") }
            defer { natsMsg_Destroy(message) }
            var operation: UnsafePointer<CChar>?
            guard natsMsgHeader_Get(message, "KV-Operation", &operation) == NATS_OK, let operation,
                ["DEL", "PURGE"].contains(String(cString: operation))
            else { return nil }
            return natsMsg_GetSequence(message)
        }
    }

    /// The value and revision of `key`'s last entry as the bucket's stream leader has it (a
    /// direct get may be answered by a follower that is behind); nil when the key has no entry
    /// or its last entry is a delete or purge marker.
    public func latestFromLeader(_ key: String) async throws(NATSError) -> (value: [UInt8], revision: UInt64)? {
        try await BlockingCalls.run { () throws(NATSError) in
            var message: OpaquePointer?
            var code = jsErrCode(0)
            let status = js_GetLastMsg(&message, self.jetStream.handle, "KV_" + self.bucket, "$KV.\(self.bucket).\(key)", nil, &code)
            if status == NATS_NOT_FOUND { return nil }
            guard status == NATS_OK, let message else { throw NATSError(status: status, jetStreamCode: code, context: "KV last value") }
            defer { natsMsg_Destroy(message) }
            var operation: UnsafePointer<CChar>?
            if natsMsgHeader_Get(message, "KV-Operation", &operation) == NATS_OK, operation != nil { return nil }
            let length = Int(natsMsg_GetDataLength(message))
            var value = [UInt8]()
            if length > 0, let data = natsMsg_GetData(message) {
                value = Array(UnsafeRawBufferPointer(start: data, count: length))
            }
            return (value, natsMsg_GetSequence(message))
        }
    }

    /// Checks within `timeout` that the bucket's JetStream server answers.
    public func ping(timeout: Duration) async throws(NATSError) {
        try await jetStream.ping(timeout: timeout)
    }

    /// The state of the bucket's stream within `timeout`; also tells that its JetStream
    /// server (the hub, for a leaf) answers.
    public func state(timeout: Duration) async throws(NATSError) -> StreamState {
        try await jetStream.streamState("KV_" + bucket, timeout: timeout)
    }

    /// Creates the bucket again with `configuration` if its stream is gone (deleted behind the
    /// service's back); this handle keeps working either way.
    public func recreateIfMissing(_ configuration: KeyValueConfiguration) async throws(NATSError) {
        _ = try await jetStream.keyValue(configuration)
    }

    /// Makes the bucket's stream refuse roll-up headers (see ``JetStream/refuseRollups(_:)``).
    /// - Returns: whether the stream had to be changed.
    @discardableResult
    public func refuseRollups() async throws(NATSError) -> Bool {
        try await jetStream.refuseRollups("KV_" + bucket)
    }

    /// Raises the copies the bucket keeps to `replicas` when it keeps fewer (see
    /// ``JetStream/growReplicas(_:to:)``).
    /// - Returns: whether the bucket had to be changed.
    @discardableResult
    public func growReplicas(to replicas: Int) async throws(NATSError) -> Bool {
        try await jetStream.growReplicas("KV_" + bucket, to: replicas)
    }

    /// Starts a watcher of every key: first the latest value of each, then every change.
    /// - Parameter timeout: how long creating it may take (with a million keys nats-server
    ///   2.9 needs seconds to set up the last-value-per-key consumer).
    public func watchAll(timeout: Duration = .seconds(30)) async throws(NATSError) -> KeyValueWatcher {
        try await BlockingCalls.runOnOwnThread(named: "kv-watch-setup") { () throws(NATSError) in
            try self.watchAllBlocking(timeout: timeout)
        }
    }

    private func watchAllBlocking(timeout: Duration) throws(NATSError) -> KeyValueWatcher {
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
