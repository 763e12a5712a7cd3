import Foundation

/// Prometheus's own linter for the exposition format (`promtool check metrics`, Debian's
/// `prometheus` package, which `scripts/install-test-tools.sh` installs).
enum Promtool {
    /// promtool's exit status and what it printed for `text`.
    static func checkMetrics(_ text: String) throws -> (status: Int32, output: String) {
        let input = TemporaryDirectory.file("metrics-", suffix: ".txt")
        try text.write(toFile: input, atomically: true, encoding: .utf8)
        let outputPath = TemporaryDirectory.file("promtool-", suffix: ".log")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "promtool check metrics < \"$0\" > \"$1\" 2>&1", input, outputPath]
        try process.run()
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, output)
    }
}
