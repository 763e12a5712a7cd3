/// When the JWK Set URL is fetched (``TokenKeyReloader``): at most one fetch in flight, those
/// who need one meanwhile join it, a SIGHUP during a fetch asks for one more after it, and
/// unknown `kid`s start at most one fetch per ``TokenKeyReloader/unknownKeyInterval``.
///
/// A value type without I/O: each event returns what the owner is to do.
struct JWKSFetchStateMachine {
    /// Why a fetch is wanted.
    enum Request {
        /// The schedule: start one unless one is in flight, and wait for it.
        case scheduled
        /// SIGHUP: start one, or have one follow the one in flight; do not wait.
        case background
        /// A token names an unknown `kid` at this instant: join the fetch in flight, or start
        /// one if none started for an unknown kid within `unknownKeyInterval`.
        case unknownKey(ContinuousClock.Instant)
    }

    /// What the owner does for a request.
    struct Action: Equatable {
        /// Start a fetch now.
        var start: Bool
        /// Wait until the fetch in flight (or the one started) ends.
        var wait: Bool
    }

    let unknownKeyInterval: Duration
    private(set) var fetching = false
    private var fetchAgain = false
    private var lastUnknownKeyFetch: ContinuousClock.Instant?
    private var stopped = false

    init(unknownKeyInterval: Duration) {
        self.unknownKeyInterval = unknownKeyInterval
    }

    mutating func request(_ request: Request) -> Action {
        guard !stopped else { return Action(start: false, wait: false) }
        switch request {
        case .scheduled:
            return Action(start: begin(), wait: true)
        case .background:
            if fetching {
                fetchAgain = true
                return Action(start: false, wait: false)
            }
            return Action(start: begin(), wait: false)
        case .unknownKey(let now):
            if fetching { return Action(start: false, wait: true) }
            if let last = lastUnknownKeyFetch, now - last < unknownKeyInterval { return Action(start: false, wait: false) }
            lastUnknownKeyFetch = now
            return Action(start: begin(), wait: true)
        }
    }

    /// The fetch in flight ended: its waiters go on. Returns whether another one follows at once.
    mutating func fetchEnded(cancelled: Bool) -> Bool {
        fetching = fetchAgain && !cancelled && !stopped
        fetchAgain = false
        return fetching
    }

    /// Nothing fetches any more: no request starts or waits from now on.
    mutating func stop() {
        stopped = true
        fetching = false
        fetchAgain = false
    }

    private mutating func begin() -> Bool {
        guard !fetching else { return false }
        fetching = true
        return true
    }
}
