/// What a leaf's nats-server says about its connection to the hub, read from its log: the
/// current problem in words an operator can act on, and which lines are worth logging.
///
/// nats-server retries a failing leafnode connection every second and logs every attempt;
/// the node logs a problem once when it appears or changes (and again every
/// ``reminderInterval``), and keeps the lines of each retry at debug level. A problem not
/// repeated for ``staleAfter`` is over.
struct LeafnodeProblems {
    /// How long a problem counts as current without being repeated (nats-server retries every second).
    static let staleAfter: Duration = .seconds(5)
    /// How often an unchanged problem is logged again.
    static let reminderInterval: Duration = .seconds(60)

    /// The problem and when it was last seen.
    private var current: (text: String, seen: ContinuousClock.Instant)?
    /// The problem last logged, and when.
    private var logged: (text: String, at: ContinuousClock.Instant)?

    /// What to do with one log line.
    enum Verdict: Equatable {
        /// Not about the leafnode connection: forward as it is.
        case unrelated
        /// A repeat of a known problem, or retry noise: forward at debug level.
        case quiet
        /// A problem that is new, changed or due a reminder: forward as it is.
        case report
    }

    /// The current problem at `now`, if any.
    func problem(at now: ContinuousClock.Instant) -> String? {
        guard let current, now - current.seen < Self.staleAfter else { return nil }
        return current.text
    }

    /// Reads one log line's message.
    mutating func observe(_ message: String, at now: ContinuousClock.Instant) -> Verdict {
        guard let text = Self.describe(message) else {
            let noise = message.contains("Leafnode connection created") || message.contains("Leafnode connection closed")
            return noise && problem(at: now) != nil ? .quiet : .unrelated
        }
        current = (text, now)
        if let logged, logged.text == text, now - logged.at < Self.reminderInterval { return .quiet }
        logged = (text, now)
        return .report
    }

    /// The problem a line reports, in an operator's words; nil when it reports none.
    static func describe(_ message: String) -> String? {
        if let range = message.range(of: "Error trying to connect as leafnode to remote server ") {
            let rest = message[range.upperBound...]
            let hub = rest.split(separator: " ").first.map { $0.trimmingCharacters(in: ["\""]) } ?? "the hub"
            let cause = rest.range(of: "): ").map { String(rest[$0.upperBound...]) } ?? String(rest)
            return "cannot connect to the hub \(hub): \(Self.shorten(cause))"
        }
        if message.contains("Leafnode Error 'Authorization Violation'") {
            return "the hub \(address(in: message)) refused the leaf credential (authorization violation): check nats.leaf_user and nats.leaf_password on both sides"
        }
        if let range = message.range(of: "TLS leafnode handshake error: ") {
            return "TLS handshake with the hub \(address(in: message)) failed: \(message[range.upperBound...]) (check nats.leaf_tls)"
        }
        if let range = message.range(of: "Leafnode Error ") {
            return "the hub \(address(in: message)) closed the leaf connection: \(message[range.upperBound...])"
        }
        return nil
    }

    /// `dial tcp 127.0.0.1:7422: connect: connection refused` → `connection refused (dial tcp 127.0.0.1:7422)`.
    private static func shorten(_ cause: String) -> String {
        guard let range = cause.range(of: ": connect: ") else { return cause }
        return "\(cause[range.upperBound...]) (\(cause[..<range.lowerBound]))"
    }

    /// The remote address at the start of a connection's log line (`127.0.0.1:7422 - lid:4 - …`).
    private static func address(in message: String) -> String {
        message.split(separator: " ").first.map(String.init) ?? "?"
    }
}
