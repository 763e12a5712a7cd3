import PresenceCore

/// The life of one connected socket (SPEC §3b) as a value, with time passed in: it waits for
/// a hello, authenticates, lives (pinged every interval, each client frame a sign of life), and
/// closes. ``PresenceSocketHandler`` feeds it what happens and does what it answers.
struct SocketLifecycle: Equatable {
    /// The time-outs, in milliseconds.
    struct Timing: Equatable {
        var pingInterval: Int64
        var pongTimeout: Int64
        var authTimeout: Int64

        init(pingInterval: Int64, pongTimeout: Int64, authTimeout: Int64) {
            self.pingInterval = pingInterval
            self.pongTimeout = pongTimeout
            self.authTimeout = authTimeout
        }

        init(_ settings: SocketSettings) {
            self.init(
                pingInterval: Int64(settings.pingInterval) * 1_000, pongTimeout: Int64(settings.pongTimeout) * 1_000,
                authTimeout: Int64(settings.authTimeout) * 1_000)
        }
    }

    enum State: Equatable {
        /// Accepted; no hello yet (or only hellos that were refused).
        case awaitingHello(deadline: Int64)
        /// A hello is being verified and its session written.
        case authenticating(deadline: Int64)
        /// The session lives with the socket.
        case live(Live)
        /// Closed (or closing): nothing more happens.
        case closed
    }

    struct Live: Equatable {
        /// When the client last sent anything.
        var lastHeard: Int64
        /// When the session was last refreshed (the hello's write, then heartbeats).
        var lastRefresh: Int64
        /// When the next ping is due.
        var nextPing: Int64
        /// When the token stops being valid.
        var tokenExpires: Int64?
    }

    /// What the handler does after a tick.
    enum Action: Equatable {
        case none
        case sendPing
        case close(SocketClose)
    }

    private(set) var state: State
    let timing: Timing

    /// A socket accepted at `now`: its hello is due within the auth time-out.
    init(timing: Timing, now: Timestamp) {
        self.timing = timing
        state = .awaitingHello(deadline: now.millisecondsSinceEpoch + timing.authTimeout)
    }

    /// A hello arrived; true when it is to be verified (no hello is being verified and none
    /// was accepted yet).
    mutating func helloArrived() -> Bool {
        guard case .awaitingHello(let deadline) = state else { return false }
        state = .authenticating(deadline: deadline)
        return true
    }

    /// The hello was refused in a way the client may correct: it may send another before the
    /// same deadline.
    mutating func helloRefused() {
        guard case .authenticating(let deadline) = state else { return }
        state = .awaitingHello(deadline: deadline)
    }

    /// The hello's session was written at `now`; false when the socket closed meanwhile (the
    /// session just written is then to be ended).
    mutating func welcomed(now: Timestamp, tokenExpires: Timestamp?) -> Bool {
        guard case .authenticating = state else { return false }
        let now = now.millisecondsSinceEpoch
        state = .live(
            Live(
                lastHeard: now, lastRefresh: now, nextPing: now + timing.pingInterval,
                tokenExpires: tokenExpires?.millisecondsSinceEpoch))
        return true
    }

    /// The client sent a frame (a pong, a ping, a command) at `now`; true when the session is
    /// due a heartbeat: at most one per half ping interval, so a client that floods pongs
    /// costs no more than one that answers pings.
    mutating func heard(now: Timestamp) -> Bool {
        guard case .live(var live) = state else { return false }
        let now = now.millisecondsSinceEpoch
        live.lastHeard = max(live.lastHeard, now)
        let due = now >= live.lastRefresh + timing.pingInterval / 2
        if due { live.lastRefresh = now }
        state = .live(live)
        return due
    }

    /// What is due at `now`: a ping, or the close of a socket whose hello, pong or token ran out.
    mutating func tick(now: Timestamp) -> Action {
        let now = now.millisecondsSinceEpoch
        switch state {
        case .awaitingHello(let deadline), .authenticating(let deadline):
            guard now >= deadline else { return .none }
            state = .closed
            return .close(.noHello)
        case .live(var live):
            if let expires = live.tokenExpires, now >= expires {
                state = .closed
                return .close(.tokenExpired)
            }
            if now >= live.lastHeard + timing.pingInterval + timing.pongTimeout {
                state = .closed
                return .close(.silent)
            }
            guard now >= live.nextPing else { return .none }
            live.nextPing = now + timing.pingInterval
            state = .live(live)
            return .sendPing
        case .closed:
            return .none
        }
    }

    /// When ``tick(now:)`` next has something to do; nil when closed.
    var nextWakeUp: Timestamp? {
        let millis: Int64
        switch state {
        case .awaitingHello(let deadline), .authenticating(let deadline): millis = deadline
        case .live(let live):
            millis = min(
                live.nextPing, live.lastHeard + timing.pingInterval + timing.pongTimeout, live.tokenExpires ?? .max)
        case .closed: return nil
        }
        return Timestamp(millisecondsSinceEpoch: millis)
    }

    /// The socket closes for `reason`: what becomes of its session (only a live socket has
    /// one to end). Closing twice changes nothing: the second answer is `keep`.
    mutating func close(_ reason: SocketClose) -> SocketClose.SessionEnding {
        let wasLive: Bool
        switch state {
        case .live: wasLive = true
        case .awaitingHello, .authenticating: wasLive = false
        case .closed: return .keep
        }
        state = .closed
        return wasLive ? reason.ending : .keep
    }

    /// The connection went away without a close frame.
    mutating func dropped() -> SocketClose.SessionEnding {
        close(SocketClose(code: 1006, reason: "", ending: .afterGrace))
    }

    /// Whether the session lives with the socket.
    var isLive: Bool {
        if case .live = state { return true }
        return false
    }

    /// Whether the socket closed.
    var isClosed: Bool { state == .closed }
}
