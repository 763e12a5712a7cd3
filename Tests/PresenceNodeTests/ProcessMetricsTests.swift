import Testing

@testable import PresenceNode

/// `process_*` and `presence_build_info` on `/metrics` (SPEC §6).
@Suite("Process metrics")
struct ProcessMetricsTests {
    @Test func procStatIsParsedFieldByField() throws {
        // A command name with a space and a parenthesis, as the kernel writes it.
        let stat =
            "4242 (pres ence) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 12 0 30000 1048576 512 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
        let sample = try #require(
            ProcessSample.parse(
                stat: stat, procStat: "cpu  1 2 3\nbtime 1700000000\nprocesses 9\n", ticksPerSecond: 100, pageSize: 4096,
                openFileDescriptors: 7, maxFileDescriptors: 1024))
        #expect(sample.cpuSeconds == 4.0)
        #expect(sample.residentBytes == 512 * 4096)
        #expect(sample.virtualBytes == 1_048_576)
        #expect(sample.startTimeSeconds == 1_700_000_300)
        #expect(sample.openFileDescriptors == 7 && sample.maxFileDescriptors == 1024)
        #expect(ProcessSample.parse(stat: "garbage", procStat: "", ticksPerSecond: 100, pageSize: 4096, openFileDescriptors: 0, maxFileDescriptors: 0) == nil)
    }

    @Test func thisProcessIsMeasured() throws {
        let text = String(decoding: ProcessMetrics.text(version: "9.9.9"), as: UTF8.self)
        #expect(text.contains(#"presence_build_info{version="9.9.9"} 1"#))
        #if os(Linux)
        let sample = try #require(ProcessSample.current())
        #expect(sample.residentBytes > 1_000_000)
        #expect(sample.openFileDescriptors > 2)
        #expect(sample.cpuSeconds > 0)
        for name in [
            "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_max_fds",
            "process_start_time_seconds", "process_virtual_memory_bytes",
        ] {
            #expect(text.contains("# TYPE \(name) "), "\(name)")
        }
        #endif
    }
}
