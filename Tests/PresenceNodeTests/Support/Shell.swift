import Foundation

/// Runs a command line with /bin/sh for a test (openssl, curl, promtool).
enum Shell {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `command` in `directory`; returns its exit status and output (stdout and stderr).
    static func status(_ command: String, in directory: String = "/") throws -> (status: Int32, output: String) {
        let outputPath = TemporaryDirectory.file("shell-", suffix: ".log")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "cd \"$0\" && { \(command) ; } > \"$1\" 2>&1", directory, outputPath]
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }

    /// Runs `command` in `directory`; returns its output. - Throws: ``Failure`` when it exits non-zero.
    @discardableResult
    static func run(_ command: String, in directory: String) throws -> String {
        let (status, output) = try status(command, in: directory)
        guard status == 0 else { throw Failure(description: "\(command): \(output)") }
        return output
    }
}
