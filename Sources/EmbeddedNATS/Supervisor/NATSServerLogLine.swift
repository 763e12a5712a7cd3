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
}
