#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The standard `process_*` metrics of a Prometheus client (CPU seconds, resident and virtual
/// memory, open and maximum file descriptors, start time) and `presence_build_info`, as
/// Prometheus text. Read from `/proc` at each scrape (memory-only files, no disk I/O);
/// elsewhere only the build info.
enum ProcessMetrics {
    /// The text exposition, ending with a newline.
    static func text(version: String) -> [UInt8] {
        var out = """
            # HELP presence_build_info The running version of swift-presence.
            # TYPE presence_build_info gauge
            presence_build_info{version="\(version)"} 1

            """
        if let sample = ProcessSample.current() {
            out += """
                # HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
                # TYPE process_cpu_seconds_total counter
                process_cpu_seconds_total \(sample.cpuSeconds)
                # HELP process_resident_memory_bytes Resident memory size in bytes.
                # TYPE process_resident_memory_bytes gauge
                process_resident_memory_bytes \(sample.residentBytes)
                # HELP process_virtual_memory_bytes Virtual memory size in bytes.
                # TYPE process_virtual_memory_bytes gauge
                process_virtual_memory_bytes \(sample.virtualBytes)
                # HELP process_open_fds Number of open file descriptors.
                # TYPE process_open_fds gauge
                process_open_fds \(sample.openFileDescriptors)
                # HELP process_max_fds Maximum number of open file descriptors.
                # TYPE process_max_fds gauge
                process_max_fds \(sample.maxFileDescriptors)
                # HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
                # TYPE process_start_time_seconds gauge
                process_start_time_seconds \(sample.startTimeSeconds)

                """
        }
        return Array(out.utf8)
    }
}

/// One reading of this process's figures from `/proc`.
struct ProcessSample: Equatable {
    var cpuSeconds: Double
    var residentBytes: Int
    var virtualBytes: Int
    var openFileDescriptors: Int
    var maxFileDescriptors: Int
    var startTimeSeconds: Double

    /// This process now; nil where `/proc` is not (or not readable).
    static func current() -> ProcessSample? {
        #if os(Linux)
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let system = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
        else { return nil }
        var limit = rlimit()
        let maxDescriptors = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(limit.rlim_cur) : 0
        return parse(
            stat: stat, procStat: system, ticksPerSecond: Int(sysconf(Int32(_SC_CLK_TCK))),
            pageSize: Int(sysconf(Int32(_SC_PAGESIZE))), openFileDescriptors: descriptors.count,
            maxFileDescriptors: maxDescriptors)
        #else
        return nil
        #endif
    }

    /// The figures in `/proc/self/stat` (fields after the command name, which may hold spaces
    /// and parentheses) and `/proc/stat` (`btime`).
    static func parse(
        stat: String, procStat: String, ticksPerSecond: Int, pageSize: Int, openFileDescriptors: Int,
        maxFileDescriptors: Int
    ) -> ProcessSample? {
        guard ticksPerSecond > 0, let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): utime 14, stime 15, starttime 22, vsize 23, rss 24.
        guard fields.count > 21, let user = Double(fields[11]), let system = Double(fields[12]),
            let started = Double(fields[19]), let virtual = Int(fields[20]), let resident = Int(fields[21]),
            let bootLine = procStat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(bootLine.dropFirst(6).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let ticks = Double(ticksPerSecond)
        return ProcessSample(
            cpuSeconds: (user + system) / ticks, residentBytes: resident * pageSize, virtualBytes: virtual,
            openFileDescriptors: openFileDescriptors, maxFileDescriptors: maxFileDescriptors,
            startTimeSeconds: boot + started / ticks)
    }
}
