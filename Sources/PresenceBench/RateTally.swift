/// What one open-loop run (or one event loop's share of it) observed. Latencies are in
/// milliseconds from each request's *scheduled* send time to the end of its answer, so a
/// request that had to wait for a connection, or was sent late, counts its wait (no
/// coordinated omission).
struct RateTally: Sendable {
    /// Latencies of every answer, whatever its status (milliseconds).
    var latencies: [Double] = []
    /// Answers by HTTP status.
    var statuses: [Int: Int] = [:]
    /// Requests that got no answer within the timeout (the connection was closed).
    var timeouts = 0
    /// Requests whose connection failed or closed before their answer.
    var socketErrors = 0
    /// Connections that could not be opened.
    var connectErrors = 0
    /// Requests still waiting for a connection when the run ended: never sent.
    var unsent = 0
    /// Requests written to a socket later than the lateness bound after their scheduled time.
    var lateSends = 0
    /// Requests written to a socket.
    var sent = 0
    /// Connections opened.
    var connectionsOpened = 0
    /// The most connections open at once.
    var peakConnections = 0
    /// The requests (indices) without a 2xx answer: non-2xx, no answer, never sent.
    var unacknowledged: [Int] = []
    /// What happened to each request in `unacknowledged`, and when.
    var misses: [RateMiss] = []

    mutating func merge(_ other: RateTally) {
        latencies += other.latencies
        statuses.merge(other.statuses, uniquingKeysWith: +)
        timeouts += other.timeouts
        socketErrors += other.socketErrors
        connectErrors += other.connectErrors
        unsent += other.unsent
        lateSends += other.lateSends
        sent += other.sent
        connectionsOpened += other.connectionsOpened
        peakConnections += other.peakConnections
        unacknowledged += other.unacknowledged
        misses += other.misses
    }

    /// Answers with a 2xx status.
    var answered2xx: Int { statuses.filter { (200..<300).contains($0.key) }.values.reduce(0, +) }
    /// Answers with any other status.
    var non2xx: Int { statuses.filter { !(200..<300).contains($0.key) }.values.reduce(0, +) }
    /// Requests that got no answer at all: socket errors, timeouts, never sent (and failed connects).
    var errors: Int { timeouts + socketErrors + unsent + connectErrors }
}
