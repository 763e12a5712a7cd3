internal import CNATS

/// A failure reported by nats.c or by JetStream, with Swift types only.
public struct NATSError: Error, Sendable, CustomStringConvertible {
    /// The nats.c status, as its numeric value and name (e.g. `NATS_TIMEOUT`).
    public let status: Int
    /// The JetStream API error code (e.g. 10071, wrong last sequence), 0 when none.
    public let jetStreamCode: Int
    /// nats.c's text for the failure.
    public let text: String
    /// The request (a publish) was never sent, so it certainly had no effect.
    public internal(set) var wasNotSent = false

    init(status: natsStatus, jetStreamCode: jsErrCode = jsErrCode(rawValue: 0), context: String) {
        self.status = Int(status.rawValue)
        self.jetStreamCode = Int(jetStreamCode.rawValue)
        var detail = String(cString: natsStatus_GetText(status))
        // nats_GetLastError can hold stale text from an earlier failure on this thread, so it
        // is used only when it reports the same status.
        var lastStatus = NATS_OK
        if let last = nats_GetLastError(&lastStatus), lastStatus == status {
            let lastText = String(cString: last)
            if !lastText.isEmpty { detail = lastText }
        }
        self.text = "\(context): \(detail)"
    }

    /// An error with its text given (for callbacks, where nats.c's last error belongs to
    /// another call).
    init(status: natsStatus, jetStreamCode: jsErrCode = jsErrCode(rawValue: 0), text: String) {
        self.status = Int(status.rawValue)
        self.jetStreamCode = Int(jetStreamCode.rawValue)
        self.text = text
    }

    /// A compare-and-set lost: the subject's last sequence was not the expected one.
    public var isWrongLastSequence: Bool {
        jetStreamCode == Int(JSStreamWrongLastSequenceErr.rawValue) || text.contains("wrong last sequence")
    }

    /// Nobody answered: the JetStream server is not reachable from here (nats.c reports it
    /// as `NATS_NO_RESPONDERS`, or for JetStream requests as err_code 10076).
    public var isNoResponders: Bool {
        status == Int(NATS_NO_RESPONDERS.rawValue) || jetStreamCode == Int(JSNotEnabledErr.rawValue)
    }

    /// JetStream is out of storage: its limit is reached (err_code 10023 "insufficient
    /// resources", 10047 "insufficient storage resources available").
    public var isInsufficientStorage: Bool {
        jetStreamCode == 10023 || jetStreamCode == 10047
    }

    /// Whether the request certainly was not carried out: it was never sent, nobody was there
    /// to receive it, or JetStream refused it with an error code. Anything else (a time-out)
    /// may have been carried out without its answer arriving.
    public var certainlyNotApplied: Bool { wasNotSent || isNoResponders || jetStreamCode != 0 }

    /// The stream (a bucket) does not exist (err_code 10059): deleted, or never created.
    public var isStreamNotFound: Bool { jetStreamCode == 10059 }

    public var description: String {
        jetStreamCode != 0 ? "\(text) (err_code \(jetStreamCode))" : text
    }
}

/// Throws a ``NATSError`` unless `status` is `NATS_OK`.
@inline(__always)
func check(_ status: natsStatus, _ context: @autoclosure () -> String) throws(NATSError) {
    guard status == NATS_OK else { throw NATSError(status: status, context: context()) }
}

extension NATSError {
    /// The error for work that could not run because the client is shutting down.
    public static var poolUnavailable: NATSError {
        NATSError(status: NATS_CONNECTION_CLOSED, context: "the NATS client is shutting down")
    }
}
