import Foundation
@testable import EmbeddedNATS
import NIOConcurrencyHelpers
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `presence` executable run as a child process, as an operator would run it.
final class ServiceProcess: @unchecked Sendable {
    // @unchecked Sendable: wraps a Foundation Process that is only touched from the test's task.
    let process: Process
    let dataDirectory: String
    let outputPath: String
    /// The HTTP port asked for; 0 lets the OS assign one, which ``httpPort`` reads from the log.
    private let requestedHTTPPort: Int
    private let loggedHTTPPort = NIOLockedValueBox<Int?>(nil)

    /// The built `presence` binary, next to the test bundle.
    static var executable: URL {
        let bundle = Bundle.main.bundleURL
        for candidate in [bundle.deletingLastPathComponent(), bundle] {
            let url = candidate.appendingPathComponent("presence")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/presence")
    }

    /// Starts `presence <arguments>` with extra environment variables.
    /// - Parameters:
    ///   - shellPrefix: shell commands run first in the same process, which then `exec`s
    ///     presence (for example `ulimit -n 256`); the pid stays the service's.
    ///   - input: its standard input (default: the test runner's).
    ///   - executable: the `presence` binary (default: the build's).
    init(
        arguments: [String], environment: [String: String], dataDirectory: String, httpPort: Int,
        shellPrefix: String? = nil, input: Pipe? = nil, executable: URL = ServiceProcess.executable
    ) throws {
        self.dataDirectory = dataDirectory
        self.requestedHTTPPort = httpPort
        // Beside the data directory, not in it: a test may fill that file system up or delete it.
        self.outputPath = TemporaryDirectory.file("presence-service-", suffix: ".log")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        process = Process()
        if let shellPrefix {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", shellPrefix + "; exec \"$0\" \"$@\"", executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PRESENCE_") && $0.key != "JWT_SECRET" }
        env["PRESENCE_NATS_SERVER_BINARY"] = TestNATSServer.binary
        env.merge(environment) { $1 }
        process.environment = env
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = output
        process.standardError = output
        if let input { process.standardInput = input }
        try process.run()
    }

    /// The test secret and NATS ports the OS assigns, plus `extra`.
    static func testEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        ["JWT_SECRET": TestNode.secret, "PRESENCE_NATS_CLIENT_PORT": "0", "PRESENCE_NATS_LEAFNODE_PORT": "0"]
            .merging(extra) { $1 }
    }

    /// `presence serve` in `dataDirectory` with the test secret, by default on ports the OS
    /// assigns; `shellPrefix` runs first in the same shell (e.g. `ulimit -n 256`).
    static func serve(
        dataDirectory: String, httpPort: Int = 0, extraArguments: [String] = [],
        environment: [String: String]? = nil, shellPrefix: String? = nil, executable: URL = ServiceProcess.executable
    ) throws -> ServiceProcess {
        try ServiceProcess(
            arguments: ["serve", "--data-dir", dataDirectory, "--http-port", String(httpPort)]
                + (extraArguments.contains("--node-id") ? [] : ["--node-id", "proc-node"]) + extraArguments,
            environment: environment ?? testEnvironment(),
            dataDirectory: dataDirectory, httpPort: httpPort, shellPrefix: shellPrefix, executable: executable)
    }

    /// How many file descriptors the service has open now (Linux: `/proc/<pid>/fd`).
    var openFileDescriptors: Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd"))?.count
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// The HTTP port: the one asked for, or the one the node logged it listens on (0 until then).
    var httpPort: Int {
        if requestedHTTPPort != 0 { return requestedHTTPPort }
        return loggedHTTPPort.withLockedValue { cached in
            if cached == nil { cached = loggedPort("http_port", inLineContaining: "HTTP server listening") }
            return cached ?? 0
        }
    }

    /// The center's leafnode port, from its "nats-server started" line (nil before it is logged).
    var leafnodePort: Int? { loggedPort("leafnode_port", inLineContaining: "nats-server started") }

    /// The embedded nats-server's client port, from its "nats-server started" line.
    var natsClientPort: Int? { loggedPort("client_url", inLineContaining: "nats-server started") }

    /// The URL of the embedded nats-server's client port with its credential, as an operator
    /// finds it in `<data_dir>/nats-client.url` (SPEC §5); empty before the node wrote it.
    var natsClientURL: String {
        let text = (try? String(contentsOfFile: dataDirectory + "/nats-client.url", encoding: .utf8)) ?? ""
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The last number logged for `key` on a line containing `marker` (logfmt: `key=value`,
    /// a URL value counts by its port).
    private func loggedPort(_ key: String, inLineContaining marker: String) -> Int? {
        for line in output.split(separator: "\n").reversed() where line.contains(marker) {
            guard let range = line.range(of: key + "=") else { continue }
            let value = line[range.upperBound...].prefix { $0 != " " }
            let digits = value.split(separator: ":").last?.prefix { $0.isNumber } ?? ""
            if let port = Int(digits), port > 0 { return port }
        }
        return nil
    }

    /// Waits until the output contains `text` (a log line); records an issue when it does not within 10 s.
    func waitForOutput(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let deadline = ContinuousClock.now + .seconds(10).scaled
        while !output.contains(text), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(output.contains(text), "log: \(text)", sourceLocation: sourceLocation)
    }

    /// Waits until `/health/ready` answers 200.
    func waitUntilReady(timeout: Duration = .seconds(20)) async throws {
        guard try await becomesReady(within: timeout) else {
            Issue.record("service did not become ready; output:\n\(output)")
            throw CancellationError()
        }
    }

    /// Whether `/health/ready` answers 200 within `timeout` (false at once when the process exits).
    func becomesReady(within timeout: Duration = .seconds(20)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout.scaled
        while ContinuousClock.now < deadline {
            if !process.isRunning { return false }
            let port = httpPort
            if port != 0, let (status, _) = try? await HTTP.request("GET", port: port, path: "/health/ready"), status == 200 {
                return true
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// What `/health/ready` answers (status and reason) during `duration` from its first answer,
    /// which must come within `timeout` while the process runs: readiness as the node reports
    /// it, not inferred from silence. Before the first answer a failed request means "not
    /// listening yet"; after it, a failed request fails. Records an issue and throws when the
    /// process exits or never answers.
    func readinessAnswers(
        over duration: Duration, firstWithin timeout: Duration = .seconds(30),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [(status: Int, reason: String?)] {
        let firstDeadline = ContinuousClock.now + timeout.scaled
        var end: ContinuousClock.Instant?
        var answers: [(status: Int, reason: String?)] = []
        while ContinuousClock.now < end ?? firstDeadline {
            guard process.isRunning else {
                Issue.record("the service exited: \(output.suffix(2000))", sourceLocation: sourceLocation)
                throw CancellationError()
            }
            if httpPort != 0 {
                do {
                    let (status, body) = try await HTTP.request("GET", port: httpPort, path: "/health/ready")
                    answers.append((status, body["reason"] as? String))
                    if end == nil { end = ContinuousClock.now + duration.scaled }
                } catch where end == nil {
                    // Not listening yet.
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard !answers.isEmpty else {
            Issue.record("/health/ready never answered: \(output.suffix(2000))", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return answers
    }

    /// Waits for the process to exit; returns its status, nil on timeout.
    func waitForExit(timeout: Duration = .seconds(15)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout.scaled
        while ContinuousClock.now < deadline {
            if !process.isRunning { return process.terminationStatus }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// The pid of the embedded nats-server, from its pid file.
    var natsServerPID: pid_t? { readPIDFile(dataDirectory + "/nats-server.pid") }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Whether a process is gone: no such pid, or only a zombie waiting to be reaped.
func processIsGone(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return true }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}

/// The pid a nats-server wrote to `pidFile` (`EmbeddedNATSConfiguration.pidFilePath`), nil
/// when there is none.
func readPIDFile(_ pidFile: String) -> pid_t? {
    guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8) else { return nil }
    return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
}

/// The processes of this machine, found by their command lines (a node the test did not
/// start itself, such as one of the demo's).
enum NodeProcesses {
    /// The first process whose command line contains `text`, nil when none does.
    static func pid(commandLineContaining text: String) -> pid_t? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.sorted().first { pid in
            ProcessInspection.commandLine(of: pid)?.contains(text) == true
        }
    }
}

/// Waits up to `timeout` for a pid to be gone.
func waitUntilGone(_ pid: pid_t, timeout: Duration = .seconds(5)) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if processIsGone(pid) { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return processIsGone(pid)
}

/// A minimal HTTP client for tests against a process on loopback.
enum HTTP {
    static func request(
        _ method: String, port: Int, path: String, headers: [String: String] = [:], body: String? = nil
    ) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        // Above the node's own bound on a write (10 s, waiting out a failover), so a slow answer
        // is seen as what it is rather than as a client time-out.
        request.timeoutInterval = 15 * TestTime.scale
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        return (status, json)
    }
}

/// Sends raw bytes over TCP (for requests URLSession will not make, such as chunked bodies)
/// and reads until the server closes.
enum RawHTTP {
    static func send(_ text: String, port: Int) throws -> String {
        guard let fd = TestLoopback.connect(port: port, timeoutSeconds: 5) else { throw CancellationError() }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            sent += count
        }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: response, as: UTF8.self)
    }
}
