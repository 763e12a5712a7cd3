import Foundation

/// A JWK Set provider that misbehaves (`Tests/Tools/hostile_jwks.py`) on a port the OS
/// assigns: silent, trickling, huge, redirecting (to another origin or the same), slow,
/// failing, or serving what is not a JWK Set.
final class HostileJWKSServer {
    enum Mode: String {
        /// Accepts the connection and never answers.
        case silent
        /// Sends the headers, then one byte a second, without end.
        case trickle
        /// Sends a 100 MB body (no Content-Length).
        case huge
        /// Answers 302 to another origin, which serves `file`.
        case redirect
        /// Serves `file` after one second.
        case slow
        /// Answers 302 to another path of the same origin, which serves `file`.
        case same
        /// Answers 500.
        case status
        /// Answers 200 with a JSON array.
        case notjwks
        /// Answers 200 with an HTML page of 83 bytes (`text/html`).
        case html
        /// Speaks TLS with `<file>.pem` and `<file>.key`, a certificate no client trusts.
        case untrusted
    }

    static let script = PythonTool.root.appendingPathComponent("Tests/Tools/hostile_jwks.py").path

    let process = Process()
    let port: Int
    private let logPath: String

    init(_ mode: Mode, file: String? = nil) async throws {
        logPath = TemporaryDirectory.file("hostile-jwks-", suffix: ".log")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: PythonTool.python)
        process.arguments = ["-u", Self.script, mode.rawValue] + (file.map { [$0] } ?? [])
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = ContinuousClock.now + .seconds(10)
        var found: Int?
        while found == nil, ContinuousClock.now < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("port ") }) {
                found = Int(line.dropFirst(5))
            }
            if found == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw PythonTool.Failure(description: "hostile_jwks.py \(mode) did not start: \(text)")
        }
        port = found
    }

    var url: String { "http://127.0.0.1:\(port)/jwks.json" }

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// How many connections it has accepted (one per fetch).
    var connections: Int { output.split(separator: "\n").filter { $0.hasPrefix("connection ") }.count }

    /// Waits until it has accepted more than `count` connections; false when it has not within `timeout`.
    func waitForConnections(moreThan count: Int, within timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while connections <= count {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Stops the server: SIGKILL (see ``StaticHTTPServer``).
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
