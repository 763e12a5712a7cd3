/// What one fleet of bench sockets (or all of them, merged) saw of connecting, subscribing and
/// holding. A socket that was not welcomed is a failure, by reason; nothing is left out.
struct SocketTally: Sendable {
    /// Sockets whose connect began.
    var started = 0
    /// Sockets welcomed (hello answered with `welcome`).
    var welcomed = 0
    /// Sockets not welcomed, by reason: `connect` (TCP), `upgrade_<status>`, `hello_error_<code>`,
    /// `closed_<code>` / `closed` (the connection ended first), `timeout`, `malformed`, and
    /// `not_started_…`: never started because no socket was welcomed for the whole timeout.
    var failures: [String: Int] = [:]
    /// Connect begun → welcome, milliseconds, per welcomed socket.
    var welcomeLatenciesMs: [Double] = []
    /// Welcomes per second since the connect phase began.
    var welcomesBySecond: [Int] = []
    /// Milliseconds from the connect phase's start to the last welcome.
    var lastWelcomeMs: Double = 0
    /// Subscriptions answered `ok`, and refused or unanswered (by reason).
    var subscribed = 0
    var subscribeFailures: [String: Int] = [:]
    /// `presence` frames that were not a fan-out change (subscriptions' snapshots, users coming online).
    var presenceFrames = 0
    /// Welcomed sockets that closed later, by close code (`closed` when none came), and the
    /// sockets the client closed itself.
    var lostAfterWelcome: [String: Int] = [:]
    var closedByClient = 0
    /// Pings answered, and pings left unanswered (silenced sockets).
    var pingsAnswered = 0
    var pingsIgnored = 0
    /// Welcomed sockets open now.
    var open = 0

    var failed: Int { failures.values.reduce(0, +) }

    mutating func fail(_ reason: String, _ count: Int = 1) { failures[reason, default: 0] += count }

    mutating func merge(_ other: SocketTally) {
        started += other.started
        welcomed += other.welcomed
        failures.merge(other.failures, uniquingKeysWith: +)
        welcomeLatenciesMs += other.welcomeLatenciesMs
        if welcomesBySecond.count < other.welcomesBySecond.count {
            welcomesBySecond += Array(repeating: 0, count: other.welcomesBySecond.count - welcomesBySecond.count)
        }
        for (second, count) in other.welcomesBySecond.enumerated() { welcomesBySecond[second] += count }
        lastWelcomeMs = max(lastWelcomeMs, other.lastWelcomeMs)
        subscribed += other.subscribed
        subscribeFailures.merge(other.subscribeFailures, uniquingKeysWith: +)
        presenceFrames += other.presenceFrames
        lostAfterWelcome.merge(other.lostAfterWelcome, uniquingKeysWith: +)
        closedByClient += other.closedByClient
        pingsAnswered += other.pingsAnswered
        pingsIgnored += other.pingsIgnored
        open += other.open
    }
}
