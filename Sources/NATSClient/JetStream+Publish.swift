internal import CNATS
import Foundation

extension JetStream {
    /// Publishes `payload` on `subject` (a stream's subject) and returns the stream sequence
    /// once JetStream has acknowledged it (or fails after the context's timeout). Like a KV put,
    /// it is sent from the calling thread without waiting on the network.
    /// - Parameter messageID: `Nats-Msg-Id`: the stream stores a message of this id once within
    ///   its duplicate window (2 minutes by default), so a publish whose answer was lost can be
    ///   sent again.
    /// - Throws: ``NATSError``; `wasNotSent` when it never left this process.
    public func publish(_ subject: String, payload: [UInt8], messageID: String? = nil) async throws(NATSError) -> UInt64 {
        let context = "publish to \(subject)"
        var options = jsPubOptions()
        try check(jsPubOptions_Init(&options), "jsPubOptions_Init")
        options.MaxWait = max(1, timeout.milliseconds)
        // nats.c reads the id while sending, within this call: it must live until the call ends.
        let id = messageID.map { strdup($0) } ?? nil
        defer { free(id) }
        options.MsgId = UnsafePointer(id)
        var created: OpaquePointer?
        let status = payload.withUnsafeBytes { bytes in
            natsMsg_Create(&created, subject, nil, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        }
        guard status == NATS_OK, let message = created else {
            var error = NATSError(status: status, context: context)
            error.wasNotSent = true
            throw error
        }
        return try await sendAwaitingAcknowledgement(message, options: &options, context: context)
    }

    /// Sends `message` (which this call owns) with `options` and waits for its
    /// acknowledgement: the one way a publish of ours awaits JetStream's answer.
    func sendAwaitingAcknowledgement(_ message: OpaquePointer, options: inout jsPubOptions, context: String) async throws(NATSError)
        -> UInt64
    {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<UInt64, NATSError>, Never>) in
            acknowledgements.register(message, continuation)
            var owned: OpaquePointer? = message
            let status = js_PublishMsgAsync(handle, &owned, &options)
            if status != NATS_OK {
                // Not sent: the message is still ours and no acknowledgement will come.
                // The waiter is taken out before the message is freed: a message created
                // afterwards may get the same address and register under it.
                var error = NATSError(status: status, context: context)
                error.wasNotSent = true
                let waiter = acknowledgements.take(message)
                natsMsg_Destroy(owned)
                waiter?.resume(returning: .failure(error))
            }
        }
        return try result.get()
    }
}
