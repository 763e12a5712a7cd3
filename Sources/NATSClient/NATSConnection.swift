#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
internal import CNATS

/// A connection to a NATS server: reconnects by itself and reports connection changes.
///
/// `@unchecked Sendable`: it owns the `natsConnection` handle, which nats.c makes safe to use
/// from any thread; the handle is only destroyed in `deinit`, when no other reference exists.
public final class NATSConnection: @unchecked Sendable {
    /// A change of the connection's state, delivered on a nats.c thread.
    public enum Event: Sendable {
        case disconnected
        case reconnected
        case closed
    }

    let handle: OpaquePointer
    private let events: EventBox

    /// Connects to a NATS server; returns once connected, or fails.
    /// - Parameter onEvent: called on a nats.c thread at each disconnect, reconnect and close;
    ///   it must not block.
    public static func connect(
        options: NATSConnectionOptions, onEvent: @escaping @Sendable (Event) -> Void = { _ in }
    ) async throws(NATSError) -> NATSConnection {
        try await BlockingCalls.run { () throws(NATSError) in try NATSConnection(options: options, onEvent: onEvent) }
    }

    /// Connects, blocking the calling thread until connected or failed.
    private init(options: NATSConnectionOptions, onEvent: @escaping @Sendable (Event) -> Void) throws(NATSError) {
        try NATSLibrary.open()
        var opts: OpaquePointer?
        try check(natsOptions_Create(&opts), "natsOptions_Create")
        guard let opts else { throw NATSError(status: NATS_NO_MEMORY, context: "natsOptions_Create") }
        defer { natsOptions_Destroy(opts) }

        let box = EventBox(onEvent)
        let context = Unmanaged.passRetained(box).toOpaque()
        var connection: OpaquePointer?
        do throws(NATSError) {
            let owned = options.urls.map { strdup($0) }
            defer { owned.forEach { free($0) } }
            var servers = owned.map { UnsafePointer<CChar>($0) }
            try servers.withUnsafeMutableBufferPointer { buffer throws(NATSError) in
                try check(
                    natsOptions_SetServers(opts, buffer.baseAddress, Int32(buffer.count)), "natsOptions_SetServers")
            }
            try check(natsOptions_SetName(opts, options.name), "natsOptions_SetName")
            try check(natsOptions_SetTimeout(opts, options.connectTimeout.milliseconds), "natsOptions_SetTimeout")
            try check(natsOptions_SetMaxReconnect(opts, -1), "natsOptions_SetMaxReconnect")
            try check(natsOptions_SetReconnectWait(opts, options.reconnectWait.milliseconds), "natsOptions_SetReconnectWait")
            try check(natsOptions_SetSendAsap(opts, true), "natsOptions_SetSendAsap")
            if options.retryOnFailedConnect {
                try check(natsOptions_SetRetryOnFailedConnect(opts, true, nil, nil), "natsOptions_SetRetryOnFailedConnect")
            }
            if let user = options.user {
                try check(natsOptions_SetUserInfo(opts, user, options.password ?? ""), "natsOptions_SetUserInfo")
            }
            if let prefix = options.inboxPrefix {
                try check(natsOptions_SetCustomInboxPrefix(opts, prefix), "natsOptions_SetCustomInboxPrefix")
            }
            if let token = options.token {
                try check(natsOptions_SetToken(opts, token), "natsOptions_SetToken")
            }
            try check(natsOptions_SetDisconnectedCB(opts, disconnectedCallback, context), "natsOptions_SetDisconnectedCB")
            try check(natsOptions_SetReconnectedCB(opts, reconnectedCallback, context), "natsOptions_SetReconnectedCB")
            try check(natsOptions_SetClosedCB(opts, closedCallback, context), "natsOptions_SetClosedCB")
            try check(natsConnection_Connect(&connection, opts), "connect to \(options.urls.joined(separator: ","))")
        } catch {
            Unmanaged<EventBox>.fromOpaque(context).release()
            throw error
        }
        guard let connection else { throw NATSError(status: NATS_ERR, context: "natsConnection_Connect") }
        self.handle = connection
        self.events = box
    }

    /// Whether the connection is up right now.
    public var isConnected: Bool {
        natsConnection_Status(handle) == NATS_CONN_STATUS_CONNECTED
    }

    /// The URL of the server currently connected to, if any, without the user and password
    /// it may carry (nats.c gives the URL as configured; `/health/info` shows it publicly).
    public var connectedURL: String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard natsConnection_GetConnectedUrl(handle, &buffer, buffer.count) == NATS_OK else { return nil }
        let url = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return url.isEmpty ? nil : NATSURL.withoutCredentials(url)
    }

    /// How many times the connection was re-established.
    public var reconnects: UInt64 {
        var stats: OpaquePointer?
        guard natsStatistics_Create(&stats) == NATS_OK, let stats else { return 0 }
        defer { natsStatistics_Destroy(stats) }
        guard natsConnection_GetStats(handle, stats) == NATS_OK else { return 0 }
        var count: UInt64 = 0
        natsStatistics_GetCounts(stats, nil, nil, nil, nil, &count)
        return count
    }

    /// A JetStream context on this connection (no network round trip).
    /// - Parameters:
    ///   - domain: the JetStream domain to reach (a leaf reaches the center's `hub`).
    ///   - timeout: how long API requests and publish acknowledgements may take.
    ///   - publishing: limits on asynchronous publishes.
    public func jetStream(domain: String?, timeout: Duration, publishing: AsyncPublishing = .service) throws(NATSError)
        -> JetStream
    {
        try JetStream(connection: self, domain: domain, timeout: timeout, publishing: publishing)
    }

    /// Sends `payload` (with `headers`) to `subject` and waits up to `timeout` for one reply
    /// (a raw request, e.g. to the JetStream API).
    public func request(
        _ subject: String, payload: [UInt8] = [], headers: [String: String] = [:], timeout: Duration
    ) async throws(NATSError) -> [UInt8] {
        try await BlockingCalls.run { () throws(NATSError) in
            try self.requestBlocking(subject, payload: payload, headers: headers, timeout: timeout)
        }
    }

    private func requestBlocking(
        _ subject: String, payload: [UInt8], headers: [String: String], timeout: Duration
    ) throws(NATSError) -> [UInt8] {
        var created: OpaquePointer?
        let status = payload.withUnsafeBytes { bytes in
            natsMsg_Create(&created, subject, nil, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        }
        guard status == NATS_OK, let message = created else { throw NATSError(status: status, context: "request \(subject)") }
        defer { natsMsg_Destroy(message) }
        for (name, value) in headers {
            try check(natsMsgHeader_Set(message, name, value), "header \(name)")
        }
        var reply: OpaquePointer?
        let sent = natsConnection_RequestMsg(&reply, handle, message, max(1, timeout.milliseconds))
        guard sent == NATS_OK, let reply else { throw NATSError(status: sent, context: "request \(subject)") }
        defer { natsMsg_Destroy(reply) }
        let length = Int(natsMsg_GetDataLength(reply))
        guard length > 0, let data = natsMsg_GetData(reply) else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: length))
    }

    /// Closes the connection (flushing what is buffered and joining nats.c's threads, on the
    /// client's thread pool); pending callbacks still run. Safe to call more than once.
    public func close() async {
        _ = try? await BlockingCalls.run { natsConnection_Close(self.handle) }
    }

    deinit {
        natsConnection_Close(handle)
        natsConnection_Destroy(handle)
    }
}

/// The Swift side of the connection callbacks; released by the closed callback.
private final class EventBox: Sendable {
    let handler: @Sendable (NATSConnection.Event) -> Void
    init(_ handler: @escaping @Sendable (NATSConnection.Event) -> Void) { self.handler = handler }
}

private func disconnectedCallback(_ connection: OpaquePointer?, _ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    Unmanaged<EventBox>.fromOpaque(context).takeUnretainedValue().handler(.disconnected)
}

private func reconnectedCallback(_ connection: OpaquePointer?, _ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    Unmanaged<EventBox>.fromOpaque(context).takeUnretainedValue().handler(.reconnected)
}

private func closedCallback(_ connection: OpaquePointer?, _ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    let box = Unmanaged<EventBox>.fromOpaque(context)
    box.takeUnretainedValue().handler(.closed)
    box.release()
}
