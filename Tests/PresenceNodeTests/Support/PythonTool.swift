import Foundation

/// The Python tools of the tests (`scripts/install-test-tools.sh` installs them into
/// `.tools/python-venv`): tokens and keys made by PyJWT, and a static HTTP server.
enum PythonTool {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let python = root.appendingPathComponent(".tools/python-venv/bin/python").path
    static let jwtTool = root.appendingPathComponent("Tests/Tools/jwt_tool.py").path

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs the venv's python with `arguments`; returns its standard output, trimmed.
    /// - Throws: ``Failure`` with its error output when it exits non-zero.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python \(arguments.joined(separator: " ")): \(String(decoding: errorData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Makes RSA keys k1, k3 and EC key k2 in `directory`, with `jwks-12.json` (k1, k2) and
    /// `jwks-3.json` (k3) (PyJWT's `to_jwk`).
    static func makeKeys(in directory: String) throws {
        try run([jwtTool, "keys", directory])
    }

    /// A PyJWT token for `subject` signed with key `kid` of `directory`, naming the kid unless `namingKid` is false.
    static func token(_ directory: String, kid: String, subject: String, namingKid: Bool = true) throws -> String {
        try run([jwtTool, "token", directory, kid, subject] + (namingKid ? [] : ["--no-kid"]))
    }
}

/// `python -m http.server` on a port the OS assigns, serving a directory; counts the GETs.
final class StaticHTTPServer {
    let process = Process()
    let port: Int
    private let logPath: String

    init(directory: String) async throws {
        logPath = TemporaryDirectory.file("http-server-", suffix: ".log")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: PythonTool.python)
        process.arguments = ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", directory]
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = ContinuousClock.now + .seconds(10)
        var found: Int?
        while found == nil, ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: " port ") {
                found = Int(text[range.upperBound...].prefix { $0.isNumber })
            }
            if found == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            throw PythonTool.Failure(description: "http.server did not start")
        }
        port = found
    }

    /// How many GET requests for `path` it answered.
    func gets(of path: String) -> Int {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.components(separatedBy: "\"GET \(path) ").count - 1
    }

    /// Stops the server: SIGKILL, because a child inherits ignored signals and the test
    /// process may ignore SIGTERM (not `waitUntilExit`, which can wait forever off the main thread).
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
