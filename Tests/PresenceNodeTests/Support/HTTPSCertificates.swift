import Foundation

/// Certificates made by openssl for the HTTPS tests: a CA, and several server certificates it signs
/// for `localhost` and 127.0.0.1.
enum HTTPSCertificates {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `command` with /bin/sh in `directory`; returns its output (stdout and stderr).
    @discardableResult
    static func shell(_ command: String, in directory: String) throws -> String {
        let outputPath = TemporaryDirectory.file("shell-", suffix: ".log")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "cd \"$0\" && { \(command) ; } > \"$1\" 2>&1", directory, outputPath]
        try process.run()
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else { throw Failure(description: "\(command): \(output)") }
        return output
    }

    /// `ca.pem` and `ca.key` in `directory`.
    static func makeAuthority(in directory: String) throws {
        try shell(
            "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=presence-test-ca -keyout ca.key -out ca.pem",
            in: directory)
    }

    /// `<name>.pem` (chain: the server certificate) and `<name>.key`, signed by the CA, with
    /// subject CN `name` and names localhost and 127.0.0.1.
    static func makeServerCertificate(_ name: String, in directory: String) throws {
        try shell(
            """
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > \(name).ext && \
            openssl req -newkey rsa:2048 -nodes -subj /CN=\(name) -keyout \(name).key -out \(name).csr && \
            openssl x509 -req -in \(name).csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile \(name).ext -out \(name).pem
            """, in: directory)
    }
}
