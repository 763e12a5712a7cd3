#if canImport(Glibc)
import Glibc
#endif

/// Raises this process's open-file limit to its hard limit: a load of many connections or
/// streams needs more descriptors than the usual soft limit of 1024.
func raiseOpenFileLimit() {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
