internal import CNATS
import NIOConcurrencyHelpers

/// Hands each JetStream publish acknowledgement to the task waiting for it.
///
/// nats.c calls one acknowledgement handler per JetStream context, on its own delivery
/// thread, with the original message. A publish registers its message (by address) before
/// sending it; the handler takes the waiter out under the lock and resumes it, so no thread
/// waits while a write is in flight. Publishes without a waiter (fire-and-forget puts) are
/// only released.
final class PublishAcknowledgements: Sendable {
    private let waiting = NIOLockedValueBox<[UInt: CheckedContinuation<Result<UInt64, NATSError>, Never>]>([:])

    /// Registers `continuation` as the waiter for the message at `message`.
    func register(_ message: OpaquePointer, _ continuation: CheckedContinuation<Result<UInt64, NATSError>, Never>) {
        waiting.withLockedValue { $0[UInt(bitPattern: message)] = continuation }
    }

    /// Removes and returns the waiter for `message`, if any.
    func take(_ message: OpaquePointer) -> CheckedContinuation<Result<UInt64, NATSError>, Never>? {
        waiting.withLockedValue { $0.removeValue(forKey: UInt(bitPattern: message)) }
    }
}

/// The `jsPubAckHandler` installed on every JetStream context: resumes the publish's waiter
/// with the stream sequence or the error, then destroys the message (the handler owns it).
func publishAcknowledged(
    _ context: OpaquePointer?, _ message: OpaquePointer?, _ ack: UnsafeMutablePointer<jsPubAck>?,
    _ failure: UnsafeMutablePointer<jsPubAckErr>?, _ closure: UnsafeMutableRawPointer?
) {
    guard let message else { return }
    defer { natsMsg_Destroy(message) }
    // The tracker is retained for the life of the process (see `JetStream.init`).
    guard let closure else { return }
    let acknowledgements = Unmanaged<PublishAcknowledgements>.fromOpaque(closure).takeUnretainedValue()
    guard let waiter = acknowledgements.take(message) else { return }
    if let ack {
        waiter.resume(returning: .success(ack.pointee.Sequence))
    } else if let failure {
        let text = failure.pointee.ErrText.map { String(cString: $0) } ?? String(cString: natsStatus_GetText(failure.pointee.Err))
        waiter.resume(
            returning: .failure(
                NATSError(status: failure.pointee.Err, jetStreamCode: failure.pointee.ErrCode, text: "KV put: \(text)")))
    } else {
        waiter.resume(returning: .failure(NATSError(status: NATS_ERR, text: "KV put: no acknowledgement")))
    }
}
