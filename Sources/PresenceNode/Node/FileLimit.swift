#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit (`RLIMIT_NOFILE`).
public enum FileLimit {
    /// Raises the soft limit to the hard limit, as Go's runtime (and so nats-server) does: the
    /// soft limit is often a 1024 left from `select(2)`, far below what the system allows.
    /// Returns the soft limit now in force, nil when unlimited or unknown.
    @discardableResult
    public static func raiseToHardLimit() -> Int? {
        #if canImport(Glibc)
        let resource = Int32(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            // macOS refuses an infinite soft limit: its per-process maximum is what Go uses there.
            #if canImport(Darwin)
            raised.rlim_cur = min(limit.rlim_max, rlim_t(OPEN_MAX))
            #else
            raised.rlim_cur = limit.rlim_max
            #endif
            if raised.rlim_cur > limit.rlim_cur, setrlimit(resource, &raised) == 0 { limit = raised }
        }
        // RLIM_INFINITY is all ones, above Int.max.
        return limit.rlim_cur > rlim_t(Int.max) ? nil : Int(limit.rlim_cur)
    }
}
