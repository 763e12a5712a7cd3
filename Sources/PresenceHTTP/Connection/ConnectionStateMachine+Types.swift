import NIOCore
import PresenceCore

/// The values a ``ConnectionStateMachine`` takes and answers with.
extension ConnectionStateMachine {
    /// The time limits (see ``HTTPServerSettings``).
    struct Timeouts {
        var header: TimeAmount
        var idle: TimeAmount
        var drain: TimeAmount
        var linger: TimeAmount

        init(_ settings: HTTPServerSettings) {
            header = TimeAmount(settings.headerTimeout)
            idle = TimeAmount(settings.idleTimeout)
            drain = TimeAmount(settings.drainPeriod)
            linger = TimeAmount(settings.lingerPeriod)
        }

        /// The time-outs of a connection accepted while the budget is nearly used: a head gets
        /// a fifth of the header time-out (at least a second, at most as configured), as
        /// nginx-style servers cut slow clients faster under pressure.
        func underPressure() -> Timeouts {
            var shorter = self
            shorter.header = min(header, max(.seconds(1), .nanoseconds(header.nanoseconds / 5)))
            return shorter
        }
    }

    /// A request whose response is not complete yet.
    struct PendingRequest: Equatable {
        var keepAlive: Bool
        var isHTTP10: Bool
        /// Its body was malformed: its response closes the connection.
        var failed = false
    }

    /// What the connection is reading.
    enum Input: Equatable {
        /// Between requests, no byte of the next one yet.
        case idle(since: NIODeadline)
        /// Part of a request head has come; its first byte came (or the connection opened) at `since`.
        case head(since: NIODeadline)
        /// A head has been decoded; its body is being read, and its last bytes came at `since`.
        case body(since: NIODeadline)
        /// Nothing more is read: what comes is dropped (after a framing error, or while closing).
        case discarding
    }

    /// How a response head must be sent.
    struct ResponseFraming: Equatable {
        /// The response ends the connection: send `Connection: close`.
        var closes: Bool
        /// The request was HTTP/1.0: answer in HTTP/1.0 (no chunked encoding).
        var isHTTP10: Bool
    }

    /// What to do after a response's end was written.
    enum AfterResponse: Equatable {
        /// Keep the connection; make sure the timer fires by the deadline, if any.
        case keepOpen(wakeUp: NIODeadline?)
        /// Close gracefully: shut the output, drop what comes until the client closes.
        case close
        /// Send this error (a framing error that came during the response), then close gracefully.
        case answerAndClose(PresenceError)
    }

    /// What to do with a framing error from the HTTP decoder.
    enum AfterFramingError: Equatable {
        /// Already handled: drop it.
        case ignore
        /// Pass it on to the request whose body it broke; its handler answers 400.
        case forward
        /// Send this error response, then close gracefully.
        case answerAndClose(PresenceError)
        /// Close gracefully without a response (the request it belongs to was answered already).
        case close
        /// Keep it until the responses to earlier requests are written.
        case wait
    }

    /// What to do when the timer fires.
    enum AfterTimer: Equatable {
        case closeNow(CloseReason)
        /// The body of the request being read stopped coming before its response began: pass
        /// an error to its handler, which answers 400; the connection closes after that
        /// response (or at the deadline, if none comes).
        case failRequest(CloseReason)
        case wakeUp(NIODeadline)
        case none
    }

    /// Why a deadline closed the connection.
    enum CloseReason: String, Equatable {
        /// A request head did not arrive within the header timeout.
        case slowHead = "request head too slow"
        /// A request body stopped coming for the header timeout.
        case slowBody = "request body too slow"
        /// No request within the idle timeout (or the drain period, at shutdown).
        case idle = "idle"
        /// The client did not close within the linger period after the last response.
        case lingerEnded = "client did not close after the last response"
    }
}
