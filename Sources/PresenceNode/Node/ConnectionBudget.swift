import NIOCore

/// How many HTTP connections a node holds at once (`service.http.max_connections`).
///
/// Every connection takes a file descriptor, and so do the node's own parts: the NATS
/// connection, NIO's and Dispatch's event descriptors, files, child processes. A process out
/// of descriptors fails in places that cannot recover (Dispatch traps when it cannot create an
/// event descriptor), so connections may only use what the open-file limit leaves after a
/// reserve for the rest. At the limit the node stops accepting: new connections wait in the
/// listen backlog until one closes (Hummingbird's `MaximumAvailableConnections`).
public struct ConnectionBudget: Sendable, Equatable {
    /// Descriptors kept for everything but HTTP connections: 64, and 3 per core for the event
    /// loops (epoll, eventfd and timerfd each).
    public static func reserve(cores: Int) -> Int { 64 + 3 * max(1, cores) }

    /// The most HTTP connections open at once.
    public let maxConnections: Int
    /// The configured value, when the open-file limit left less than it.
    public let reducedFrom: Int?

    /// The most long-lived streams (SSE) open at once: three quarters of the connections, so
    /// that streams can never take the slots requests and health probes need. A stream beyond
    /// it is answered 503 `unavailable` with `Retry-After`.
    public var streamShare: Int { max(1, maxConnections - maxConnections / 4) }

    /// - Parameters:
    ///   - configured: `service.http.max_connections`; 0: as many as the limit allows.
    ///   - fileLimit: the process's open-file limit (`RLIMIT_NOFILE`), nil when unlimited.
    ///   - cores: the processors, one event loop each.
    public init(configured: Int, fileLimit: Int?, cores: Int = System.coreCount) {
        let reserve = Self.reserve(cores: cores)
        let allowed: Int
        if let fileLimit {
            // A tiny limit (a misconfigured container) still leaves half for the node itself.
            allowed = fileLimit > 2 * reserve ? fileLimit - reserve : max(1, fileLimit / 2)
        } else {
            allowed = Int.max
        }
        if configured == 0 {
            maxConnections = min(allowed, 1_000_000)
            reducedFrom = nil
        } else {
            maxConnections = min(configured, allowed)
            reducedFrom = configured > allowed ? configured : nil
        }
    }
}
