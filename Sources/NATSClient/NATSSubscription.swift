internal import CNATS

/// A core NATS subscription whose messages a handler receives on a nats.c thread; it ends
/// when this object goes away (or the connection closes). nats.c subscribes again by itself
/// after a reconnection.
///
/// `@unchecked Sendable`: it owns the `natsSubscription` handle, which nats.c makes safe to
/// use from any thread; the handle is only destroyed in `deinit`, when no other reference exists.
public final class NATSSubscription: @unchecked Sendable {
    private let handle: OpaquePointer

    fileprivate init(handle: OpaquePointer) {
        self.handle = handle
    }

    /// Messages nats.c dropped because the handler fell behind (its pending limits).
    public var dropped: Int64 {
        var count: Int64 = 0
        return natsSubscription_GetDropped(handle, &count) == NATS_OK ? count : 0
    }

    deinit {
        natsSubscription_Unsubscribe(handle)
        natsSubscription_Destroy(handle)
    }
}

extension NATSConnection {
    /// Subscribes to `subject`; `handler` gets each message's payload on a nats.c thread (it
    /// must not block for long: messages wait behind it, and past nats.c's pending limits
    /// they are dropped, see ``NATSSubscription/dropped``).
    public func subscribe(
        _ subject: String, handler: @escaping @Sendable ([UInt8]) -> Void
    ) async throws(NATSError) -> NATSSubscription {
        try await subscribe(subject, box: MessageBox { message in handler(payload(of: message)) })
    }

    /// Subscribes to `subject`; `handler` gets each message's subject and the values of the
    /// headers named in `names` (not its payload) on a nats.c thread, as for
    /// ``subscribe(_:handler:)``.
    public func subscribe(
        _ subject: String, readingHeaders names: [String], handler: @escaping @Sendable (NATSMessage) -> Void
    ) async throws(NATSError) -> NATSSubscription {
        try await subscribe(subject, box: MessageBox { message in handler(NATSMessage(cMessage: message, readingHeaders: names)) })
    }

    private func subscribe(_ subject: String, box: MessageBox) async throws(NATSError) -> NATSSubscription {
        try await BlockingCalls.run { () throws(NATSError) in
            let context = Unmanaged.passRetained(box).toOpaque()
            var created: OpaquePointer?
            let status = natsConnection_Subscribe(&created, self.handle, subject, messageCallback, context)
            guard status == NATS_OK, let created else {
                Unmanaged<MessageBox>.fromOpaque(context).release()
                throw NATSError(status: status, context: "subscribe \(subject)")
            }
            // Released once the last message was handled after the subscription closed.
            if natsSubscription_SetOnCompleteCB(created, subscriptionCompleted, context) != NATS_OK {
                // Closed already (the connection went away): no handler runs any more.
                Unmanaged<MessageBox>.fromOpaque(context).release()
            }
            return NATSSubscription(handle: created)
        }
    }

    /// Publishes `payload` on `subject` with core NATS (at most once, no acknowledgement):
    /// returns once nats.c has it, or fails when the connection is closed.
    public func publish(_ subject: String, payload: [UInt8]) async throws(NATSError) {
        try await BlockingCalls.run { () throws(NATSError) in
            let status = payload.withUnsafeBytes { bytes in
                natsConnection_Publish(self.handle, subject, bytes.baseAddress, Int32(bytes.count))
            }
            try check(status, "publish \(subject)")
        }
    }
}

/// The Swift side of a subscription's callbacks; released by the completion callback. Its
/// handler reads what it needs from the nats.c message, which is destroyed once it returns.
private final class MessageBox: Sendable {
    let handler: @Sendable (OpaquePointer) -> Void
    init(_ handler: @escaping @Sendable (OpaquePointer) -> Void) { self.handler = handler }
}

/// The payload of a nats.c message.
private func payload(of message: OpaquePointer) -> [UInt8] {
    let length = Int(natsMsg_GetDataLength(message))
    guard length > 0, let data = natsMsg_GetData(message) else { return [] }
    return Array(UnsafeRawBufferPointer(start: data, count: length))
}

private func messageCallback(
    _ connection: OpaquePointer?, _ subscription: OpaquePointer?, _ message: OpaquePointer?,
    _ context: UnsafeMutableRawPointer?
) {
    guard let message else { return }
    defer { natsMsg_Destroy(message) }
    guard let context else { return }
    Unmanaged<MessageBox>.fromOpaque(context).takeUnretainedValue().handler(message)
}

private func subscriptionCompleted(_ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    Unmanaged<MessageBox>.fromOpaque(context).release()
}
