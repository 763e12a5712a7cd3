internal import CNATS

/// A core NATS message as ``NATSConnection/subscribe(_:readingHeaders:handler:)`` hands it
/// over: its subject and the values of the headers asked for.
public struct NATSMessage: Sendable {
    /// The subject it was published on.
    public let subject: String
    /// The headers asked for that the message has (first value of each), by name.
    public let headers: [String: String]
}

extension NATSMessage {
    /// Reads `names` from a nats.c message (valid only during the callback).
    init(cMessage message: OpaquePointer, readingHeaders names: [String]) {
        var headers: [String: String] = [:]
        for name in names {
            var value: UnsafePointer<CChar>?
            if natsMsgHeader_Get(message, name, &value) == NATS_OK, let value {
                headers[name] = String(cString: value)
            }
        }
        let subject = natsMsg_GetSubject(message).map { String(cString: $0) } ?? ""
        self.init(subject: subject, headers: headers)
    }
}
