import NIOCore
import PresenceCore

/// The rules of one HTTP/1 connection as a value (SPEC §3 "HTTP behaviour"): when it is closed
/// for a slow head or for idling, whether a response keeps it open, what a framing error gets,
/// and how it drains at shutdown. Every event is a `mutating` method that returns what the
/// channel handler must do, so the rules are tested without I/O.
///
/// Deadlines: a head has `header` from its first byte (the first head of a connection: from
/// the connection opening); a connection with nothing to read or answer is closed after
/// `idle`; once shutdown began, idle connections and unfinished heads get at most `drain`
/// more. A request body must keep coming: `header` at most between two reads of it (a client
/// that sends a head and then trickles or withholds the body is cut off). A request being
/// answered has no deadline (its handler is bounded by its own deadlines).
struct ConnectionStateMachine {
    let timeouts: Timeouts
    private(set) var input: Input
    private var pending: [PendingRequest] = []
    private var responseStarted = false
    private var currentResponseCloses = false
    private var drainingSince: NIODeadline?
    private var deferredError: PresenceError?
    /// Set once the output is shut: the connection closes when the client closes or at this time.
    private var closingUntil: NIODeadline?
    /// Some bytes of the head being read have come (only the first head of a connection is
    /// read before any of its bytes came).
    private var headBytesSeen = false
    /// When the body being read must be complete (``bodyTimeoutFactor`` header timeouts
    /// after its head).
    private var bodyDue: NIODeadline?
    /// An HTTPS connection whose TLS handshake has not completed: its first bytes are not
    /// late yet (``roomFrom``).
    private var handshaking: Bool
    /// When the TLS handshake completed (HTTPS), from when the first head's bytes are awaited.
    private var handshakeCompletedAt: NIODeadline?

    /// A request body must be complete within this many header time-outs of its head (bodies
    /// are at most 64 KiB: 30 s by default is room for a very slow link).
    static let bodyTimeoutFactor: Int64 = 3

    /// A connection that has just opened: its first head is due within the header timeout.
    /// - Parameter tls: an HTTPS connection, whose TLS handshake comes first
    ///   (``tlsHandshakeCompleted(now:)``).
    init(timeouts: Timeouts, now: NIODeadline, tls: Bool = false) {
        self.timeouts = timeouts
        self.input = .head(since: now)
        self.handshaking = tls
    }

    /// The TLS handshake of an HTTPS connection completed: its first head's bytes are awaited
    /// from now (the head's deadline still counts from the connection's opening).
    mutating func tlsHandshakeCompleted(now: NIODeadline) {
        handshaking = false
        handshakeCompletedAt = now
    }

    /// The deadline of the connection: when it is closed unless something happens first.
    var deadline: NIODeadline? {
        if let closingUntil { return closingUntil }
        let drainEnd = drainingSince.map { $0 + timeouts.drain }
        switch input {
        case .head(let since):
            return Self.earliest(since + timeouts.header, drainEnd)
        case .idle(let since):
            guard pending.isEmpty else { return nil }
            return Self.earliest(since + timeouts.idle, drainEnd)
        case .body(let since):
            // Bytes must keep coming, and the whole body must come within its own deadline: a
            // body trickled a byte per header timeout would otherwise hold the connection for ever.
            return min(since + timeouts.header, bodyDue ?? since + timeouts.header)
        case .discarding:
            return nil
        }
    }

    /// How long a new connection that has sent nothing yet is kept from making room
    /// (``roomFrom``): its request may be on its way.
    static let firstBytesGrace: TimeAmount = .milliseconds(250)

    /// From when the connection may be closed to make room for another at no one's loss
    /// (``ConnectionRegistry``), the earliest first: a keep-alive connection between requests
    /// (from the end of the last response), a request head that has begun and not ended (from
    /// its first byte), a new connection that has sent nothing (``firstBytesGrace`` after it
    /// opened, or after its TLS handshake), the rest of the body of a request already answered
    /// (from its last bytes). nil: it is answering, reading the body of a request it has not
    /// answered, in its TLS handshake, or closing.
    var roomFrom: NIODeadline? {
        guard pending.isEmpty, closingUntil == nil else { return nil }
        switch input {
        case .idle(let since): return since
        case .head(let since):
            if headBytesSeen { return since }
            if handshaking { return nil }
            return (handshakeCompletedAt ?? since) + Self.firstBytesGrace
        case .body(let since): return since  // answered already; only the rest of its body comes
        case .discarding: return nil
        }
    }

    /// When the timer must fire at the latest: the deadline, or earlier so that a timer armed
    /// now never fires after a deadline set later (those are at least `header` or `idle` away).
    func wakeUp(now: NIODeadline) -> NIODeadline? {
        deadline.map { min($0, now + min(timeouts.header, timeouts.idle)) }
    }

    // MARK: Reading

    /// Whether the next bytes change anything: they begin a request, continue its body, or
    /// are the first of a connection's first head. (Called for every read: the answer is
    /// false as long as nothing would change.)
    var awaitsBytes: Bool {
        switch input {
        case .idle, .body: return true
        case .head: return !headBytesSeen
        case .discarding: return false
        }
    }

    /// Bytes came in; when they begin a new request, its head is due within the header
    /// timeout; during a body, the next bytes are due within it again.
    mutating func bytesReceived(now: NIODeadline) -> NIODeadline? {
        headBytesSeen = true
        switch input {
        case .idle: input = .head(since: now)
        case .body: input = .body(since: now)
        case .head, .discarding: return nil
        }
        return wakeUp(now: now)
    }

    /// A request head was decoded at `now`. Returns whether to pass it on.
    mutating func headReceived(keepAlive: Bool, isHTTP10: Bool, now: NIODeadline = .now()) -> Bool {
        if input == .discarding { return false }
        input = .body(since: now)
        bodyDue = now + timeouts.header * Self.bodyTimeoutFactor
        headBytesSeen = false
        pending.append(PendingRequest(keepAlive: keepAlive, isHTTP10: isHTTP10))
        return true
    }

    /// A request's end was decoded. Returns whether to pass it on, and when to wake up.
    mutating func endReceived(now: NIODeadline) -> (forward: Bool, wakeUp: NIODeadline?) {
        if input == .discarding { return (false, nil) }
        input = .idle(since: now)
        return (true, wakeUp(now: now))
    }

    /// A request body part was decoded. Returns whether to pass it on.
    func bodyReceived() -> Bool { input != .discarding }

    /// The HTTP decoder failed. `error` is the answer the client gets when a response is still
    /// possible.
    mutating func framingFailed(_ error: PresenceError, now: NIODeadline) -> AfterFramingError {
        switch input {
        case .discarding:
            return .ignore
        case .body where pending.isEmpty:
            input = .discarding
            closingUntil = now + timeouts.linger
            return .close
        case .body:
            pending[pending.count - 1].failed = true
            input = .discarding
            return .forward
        case .idle, .head:
            input = .discarding
            guard pending.isEmpty else {
                deferredError = error
                return .wait
            }
            closingUntil = now + timeouts.linger
            return .answerAndClose(error)
        }
    }

    /// The client shut its side (EOF). Returns whether to close now (a closing connection has
    /// waited for exactly this); otherwise the event goes on.
    func inputClosed() -> Bool { closingUntil != nil }

    // MARK: Writing

    /// A response head is being written. `hasContentLength` is asked only for HTTP/1.0, which
    /// cannot keep a connection without a length.
    /// `budgetFull`: every connection of the node's budget is open, so this one is not kept
    /// for another request (``ConnectionRegistry``).
    mutating func responseHeadWritten(hasContentLength: @autoclosure () -> Bool, budgetFull: Bool = false)
        -> ResponseFraming
    {
        responseStarted = true
        guard let request = pending.first else {
            currentResponseCloses = true
            return ResponseFraming(closes: true, isHTTP10: false)
        }
        var closes = !request.keepAlive || request.failed || budgetFull
        if request.isHTTP10 && !closes { closes = !hasContentLength() }
        // Draining: the last response closes, unless another request is on its way.
        if drainingSince != nil && pending.count == 1 && !Self.isHead(input) { closes = true }
        currentResponseCloses = closes
        return ResponseFraming(closes: closes, isHTTP10: request.isHTTP10)
    }

    /// A response's end is being written.
    mutating func responseEndWritten(now: NIODeadline) -> AfterResponse {
        let request = pending.isEmpty ? nil : pending.removeFirst()
        let closes = currentResponseCloses || request?.failed == true
        responseStarted = false
        currentResponseCloses = false
        if !closes && pending.isEmpty, let error = deferredError {
            deferredError = nil
            closingUntil = now + timeouts.linger
            return .answerAndClose(error)
        }
        // Draining: nothing more to answer and no request on its way.
        let drained = drainingSince != nil && pending.isEmpty && !Self.isHead(input)
        if closes || drained {
            input = .discarding
            closingUntil = now + timeouts.linger
            return .close
        }
        if case .idle = input, pending.isEmpty { input = .idle(since: now) }
        return .keepOpen(wakeUp: wakeUp(now: now))
    }

    // MARK: Time and shutdown

    /// The timer fired.
    mutating func timerFired(now: NIODeadline) -> AfterTimer {
        guard let deadline else { return .none }
        if now >= deadline {
            if case .body = input, closingUntil == nil, !responseStarted, !pending.isEmpty {
                // A body that never completes (a withheld body, a chunk size of 2^64 - 1) gets
                // its answer, not a silent close.
                pending[pending.count - 1].failed = true
                input = .discarding
                closingUntil = now + timeouts.linger
                return .failRequest(.slowBody)
            }
            let reason: CloseReason
            switch input {
            case _ where closingUntil != nil: reason = .lingerEnded
            case .head: reason = .slowHead
            case .body: reason = .slowBody
            case .idle, .discarding: reason = .idle
            }
            input = .discarding
            return .closeNow(reason)
        }
        return .wakeUp(min(deadline, now + min(timeouts.header, timeouts.idle)))
    }

    /// Graceful shutdown began. Returns when to wake up: an idle connection waits at most the
    /// drain period for a last request; a response being written closes the connection after it.
    mutating func shutdownBegan(now: NIODeadline) -> NIODeadline? {
        guard drainingSince == nil else { return nil }
        drainingSince = now
        if responseStarted { currentResponseCloses = true }
        return deadline
    }

    private static func isHead(_ input: Input) -> Bool {
        if case .head = input { return true }
        return false
    }

    private static func earliest(_ deadline: NIODeadline, _ other: NIODeadline?) -> NIODeadline {
        other.map { min($0, deadline) } ?? deadline
    }
}
