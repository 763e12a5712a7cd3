#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
internal import CNATS

/// A JetStream context: the way to KV buckets, in the local or a named domain.
///
/// `@unchecked Sendable`: owns a `jsCtx` handle that nats.c allows to be shared between
/// threads; destroyed in `deinit` only, and it keeps its connection alive.
public final class JetStream: @unchecked Sendable {
    let handle: OpaquePointer
    let connection: NATSConnection
    /// The JetStream domain reached, if any.
    public let domain: String?
    let timeout: Duration
    /// The waiters of asynchronous publishes, resumed by the acknowledgement handler.
    let acknowledgements = PublishAcknowledgements()
    // nats.c keeps the pointer to the domain string: it must outlive the context.
    let domainCString: UnsafeMutablePointer<CChar>?

    init(connection: NATSConnection, domain: String?, timeout: Duration, publishing: AsyncPublishing) throws(NATSError) {
        var options = try Self.options(domain: nil, waitMilliseconds: timeout.milliseconds)
        // Copied after the last call that may throw before the context owns it (or it is freed).
        let domainCString = domain.map { strdup($0) } ?? nil
        options.Domain = UnsafePointer(domainCString)
        options.PublishAsync.MaxPending = Int64(publishing.maxPending)
        options.PublishAsync.StallWait = max(1, publishing.stallWait.milliseconds)
        options.PublishAsync.AckHandler = publishAcknowledged
        // Retained for the life of the process: nats.c may still be running the handler for a
        // fire-and-forget publish when the context is destroyed, and it does not say when the
        // last call has returned. One small object per JetStream context (a node makes two).
        options.PublishAsync.AckHandlerClosure = Unmanaged.passRetained(acknowledgements).toOpaque()
        var context: OpaquePointer?
        let status = natsConnection_JetStream(&context, connection.handle, &options)
        guard status == NATS_OK, let context else {
            free(domainCString)
            throw NATSError(status: status, context: "natsConnection_JetStream")
        }
        self.handle = context
        self.connection = connection
        self.domain = domain
        self.timeout = timeout
        self.domainCString = domainCString
    }

    /// Asks JetStream for the account information within `timeout`: a cheap check that the
    /// JetStream server (the hub, through the domain) answers.
    public func ping(timeout: Duration) async throws(NATSError) {
        try await BlockingCalls.run { () throws(NATSError) in try self.pingBlocking(timeout: timeout) }
    }

    private func pingBlocking(timeout: Duration) throws(NATSError) {
        var options = try Self.options(domain: domainCString, waitMilliseconds: max(1, timeout.milliseconds))
        var info: UnsafeMutablePointer<jsAccountInfo>?
        var errorCode = jsErrCode(rawValue: 0)
        let status = js_GetAccountInfo(&info, handle, &options, &errorCode)
        if let info { jsAccountInfo_Destroy(info) }
        guard status == NATS_OK else {
            throw NATSError(status: status, jetStreamCode: errorCode, context: "JetStream account info")
        }
    }

    /// The state of a stream within `timeout`: when it was created and its sequence numbers.
    public func streamState(_ stream: String, timeout: Duration) async throws(NATSError) -> StreamState {
        try await BlockingCalls.run { () throws(NATSError) in try self.streamStateBlocking(stream, timeout: timeout) }
    }

    private func streamStateBlocking(_ stream: String, timeout: Duration) throws(NATSError) -> StreamState {
        try withStreamInfo(stream, timeout: timeout) { info, _ in
            var state = StreamState(
                created: info.pointee.Created, firstSequence: info.pointee.State.FirstSeq,
                lastSequence: info.pointee.State.LastSeq)
            state.replicas = Int(info.pointee.Config?.pointee.Replicas ?? 1)
            state.cluster = info.pointee.Cluster.map { Self.clusterState($0.pointee) }
            return state
        }
    }

    private static func clusterState(_ info: jsClusterInfo) -> StreamClusterState {
        let text: (UnsafeMutablePointer<CChar>?) -> String? = { pointer in
            pointer.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        var peers: [StreamClusterState.Peer] = []
        if let replicas = info.Replicas {
            for index in 0..<Int(max(0, info.ReplicasLen)) {
                guard let peer = replicas[index]?.pointee else { continue }
                peers.append(
                    .init(
                        name: text(peer.Name) ?? "", current: peer.Current, offline: peer.Offline, lag: peer.Lag,
                        activeSeconds: Double(peer.Active) / 1e9))
            }
        }
        return StreamClusterState(name: text(info.Name) ?? "", leader: text(info.Leader), replicas: peers)
    }

    /// Raises the copies `stream` keeps to `replicas` when it keeps fewer (a standalone
    /// center that became one of a cluster); never lowers them. JetStream copies the data
    /// to the new peers itself. Fails while the cluster has too few servers.
    /// - Returns: whether the stream had to be changed.
    @discardableResult
    public func growReplicas(_ stream: String, to replicas: Int) async throws(NATSError) -> Bool {
        try await BlockingCalls.run { () throws(NATSError) in try self.growReplicasBlocking(stream, to: replicas) }
    }

    private func growReplicasBlocking(_ stream: String, to replicas: Int) throws(NATSError) -> Bool {
        try updateStreamBlocking(stream, context: "grow stream \(stream) to \(replicas) replicas") { config in
            guard config.pointee.Replicas < Int64(replicas) else { return false }
            config.pointee.Replicas = Int64(replicas)
            return true
        }
    }

    /// Makes sure `stream` refuses roll-up headers (`Nats-Rollup`), which would let any
    /// publisher to its subjects purge the whole stream with one message.
    /// - Returns: whether the stream had to be changed.
    @discardableResult
    public func refuseRollups(_ stream: String) async throws(NATSError) -> Bool {
        try await BlockingCalls.run { () throws(NATSError) in try self.refuseRollupsBlocking(stream) }
    }

    private func refuseRollupsBlocking(_ stream: String) throws(NATSError) -> Bool {
        try updateStreamBlocking(stream, context: "update stream \(stream)") { config in
            guard config.pointee.AllowRollup else { return false }
            config.pointee.AllowRollup = false
            return true
        }
    }

    /// Reads `stream`'s configuration, lets `change` edit it, and sends the update when
    /// `change` returns true.
    /// - Returns: whether the stream was updated.
    func updateStreamBlocking(
        _ stream: String, context: String, _ change: (UnsafeMutablePointer<jsStreamConfig>) -> Bool
    ) throws(NATSError) -> Bool {
        try withStreamInfo(stream, timeout: timeout) { info, options throws(NATSError) in
            guard let config = info.pointee.Config, change(config) else { return false }
            var updated: UnsafeMutablePointer<jsStreamInfo>?
            var errorCode = jsErrCode(rawValue: 0)
            let status = js_UpdateStream(&updated, handle, config, &options, &errorCode)
            if let updated { jsStreamInfo_Destroy(updated) }
            guard status == NATS_OK else { throw NATSError(status: status, jetStreamCode: errorCode, context: context) }
            return true
        }
    }

    /// Calls `body` with the information of `stream` (valid only during the call) and the
    /// request options used to get it.
    private func withStreamInfo<T>(
        _ stream: String, timeout: Duration,
        _ body: (UnsafeMutablePointer<jsStreamInfo>, inout jsOptions) throws(NATSError) -> T
    ) throws(NATSError) -> T {
        var options = try Self.options(domain: domainCString, waitMilliseconds: max(1, timeout.milliseconds))
        var info: UnsafeMutablePointer<jsStreamInfo>?
        var errorCode = jsErrCode(rawValue: 0)
        let status = js_GetStreamInfo(&info, handle, stream, &options, &errorCode)
        guard status == NATS_OK, let info else {
            throw NATSError(status: status, jetStreamCode: errorCode, context: "stream info \(stream)")
        }
        defer { jsStreamInfo_Destroy(info) }
        return try body(info, &options)
    }

    /// JetStream options for requests to `domain` (nil: the local one; nats.c keeps the
    /// pointer, so it must outlive their use) that wait at most `waitMilliseconds`.
    static func options(domain: UnsafeMutablePointer<CChar>?, waitMilliseconds: Int64) throws(NATSError)
        -> jsOptions
    {
        var options = jsOptions()
        try check(jsOptions_Init(&options), "jsOptions_Init")
        options.Domain = UnsafePointer(domain)
        options.Wait = waitMilliseconds
        return options
    }

    /// Waits until every asynchronous publish made through this context is acknowledged.
    public func waitForAsyncPublishes(timeout: Duration) async throws(NATSError) {
        try await BlockingCalls.run { () throws(NATSError) in try self.waitForAsyncPublishesBlocking(timeout: timeout) }
    }

    private func waitForAsyncPublishesBlocking(timeout: Duration) throws(NATSError) {
        var options = jsPubOptions()
        try check(jsPubOptions_Init(&options), "jsPubOptions_Init")
        options.MaxWait = max(1, timeout.milliseconds)
        try check(js_PublishAsyncComplete(handle, &options), "js_PublishAsyncComplete")
    }

    /// Binds to a KV bucket, creating it with `configuration` when it does not exist yet.
    public func keyValue(_ configuration: KeyValueConfiguration) async throws(NATSError) -> KeyValueBucket {
        try await BlockingCalls.run { () throws(NATSError) in try self.keyValueBlocking(configuration) }
    }

    private func keyValueBlocking(_ configuration: KeyValueConfiguration) throws(NATSError) -> KeyValueBucket {
        var store: OpaquePointer?
        var status = js_KeyValue(&store, handle, configuration.bucket)
        if configuration.createIfMissing && (status == NATS_NOT_FOUND || (status == NATS_ERR && store == nil)) {
            var config = kvConfig()
            try check(kvConfig_Init(&config), "kvConfig_Init")
            status = configuration.bucket.withCString { bucket in
                config.Bucket = bucket
                config.History = configuration.history
                config.Replicas = Int32(configuration.replicas)
                config.StorageType = configuration.storage == .file ? js_FileStorage : js_MemoryStorage
                return js_CreateKeyValue(&store, handle, &config)
            }
        }
        guard status == NATS_OK, let store else {
            throw NATSError(status: status, context: "bind KV bucket \(configuration.bucket)")
        }
        return KeyValueBucket(handle: store, jetStream: self, bucket: configuration.bucket)
    }

    deinit {
        jsCtx_Destroy(handle)
        free(domainCString)
    }
}
