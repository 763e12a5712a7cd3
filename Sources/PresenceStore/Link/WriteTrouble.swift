/// How long a change that failed for want of the bucket may be tried again inside the node
/// (``NATSPresenceStore/apply(_:to:ifMatch:)``): while the trouble is young (a leader
/// election, a leaf's hub connection moving during a rolling restart) a write waits for it,
/// within the request's own budget; once the trouble has lasted the whole budget (the hub is
/// gone) writes fail at once until one succeeds again.
struct WriteTrouble: Sendable {
    /// When the current run of failures began; nil while writes succeed.
    private(set) var since: ContinuousClock.Instant?

    /// A write failed at `now` for want of the bucket (not applied, or no answer came).
    mutating func failed(at now: ContinuousClock.Instant) {
        if since == nil { since = now }
    }

    /// A write was stored: the trouble is over.
    mutating func succeeded() {
        since = nil
    }

    /// The moment after which no further try may start: `budget` after the request began,
    /// and no later than `budget` after the trouble began.
    func deadline(requestStarted: ContinuousClock.Instant, budget: Duration) -> ContinuousClock.Instant {
        let request = requestStarted + budget
        guard let since else { return request }
        return min(request, since + budget)
    }
}
