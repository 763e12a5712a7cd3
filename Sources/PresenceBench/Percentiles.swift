/// Order statistics of a sample, in the caller's unit (the propagation tool passes
/// microseconds, the fan-out tool milliseconds).
struct Percentiles {
    private let sorted: [Double]

    init(_ samples: [Double]) { sorted = samples.sorted() }

    /// The value below which `fraction` of the samples fall (nearest rank).
    func at(_ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    var count: Int { sorted.count }
}

/// Microseconds since an arbitrary start, from the monotonic clock.
func monotonicMicros() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) * 1e6 + Double(spec.tv_nsec) / 1e3
}

/// Wall-clock milliseconds since the epoch (comparable with a record's updated_at on this machine).
func wallMillis() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Double(spec.tv_sec) * 1e3 + Double(spec.tv_nsec) / 1e6
}

#if canImport(Glibc)
import Glibc
#endif
