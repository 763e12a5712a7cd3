import Foundation

/// Prometheus's own linter for the exposition format (`promtool check metrics`, Debian's
/// `prometheus` package, which `scripts/install-test-tools.sh` installs).
enum Promtool {
    /// promtool's exit status and what it printed for `text`.
    static func checkMetrics(_ text: String) throws -> (status: Int32, output: String) {
        let input = TemporaryDirectory.file("metrics-", suffix: ".txt")
        try text.write(toFile: input, atomically: true, encoding: .utf8)
        return try Shell.status("promtool check metrics < '\(input)'")
    }
}
