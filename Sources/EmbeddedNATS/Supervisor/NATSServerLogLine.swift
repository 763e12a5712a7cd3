import Logging

/// A nats-server log line (`[pid] 2026/11/21 10:00:00.000000 [INF] text`) split into a level
/// and a message, so it can be forwarded into the service log.
struct NATSServerLogLine {
    let level: Logger.Level
    let message: String

    init(_ line: String) {
        let tags: [(String, Logger.Level)] = [
            ("[INF] ", .info), ("[WRN] ", .warning), ("[ERR] ", .error), ("[FTL] ", .critical),
            ("[DBG] ", .debug), ("[TRC] ", .trace),
        ]
        for (tag, level) in tags {
            if let range = line.range(of: tag) {
                self.level = level
                self.message = String(line[range.upperBound...])
                return
            }
        }
        self.level = .info
        self.message = line
    }

    /// Whether the line is nats-server's warning about a choice of the file the node writes,
    /// which no operator wrote and none can change: forwarded at debug level, not as a
    /// warning about their configuration.
    ///
    /// "Plaintext passwords detected": every password the file holds is a bcrypt hash but one,
    /// that of the anonymous leaf user (``NATSServerConfigFile``), which nobody presents and which
    /// cannot be hashed: nats-server gives its `no_auth_user` that user's stored password and
    /// compares it with itself, so a hash would never match.
    var isAboutTheGeneratedFile: Bool {
        level == .warning && message.hasPrefix("Plaintext passwords detected")
    }
}
