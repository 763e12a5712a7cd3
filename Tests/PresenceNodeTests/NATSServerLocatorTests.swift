@testable import EmbeddedNATS
import Foundation
import Testing

/// Which nats-server a node runs (``NATSServerLocator``), and the refusal of an old one
/// chosen automatically.
@Suite(.temporaryFiles)
struct NATSServerLocatorTests {
    @Test func automaticLooksBesideTheBinaryThenInTheProjectsToolsThenOnPATH() throws {
        let candidates = NATSServerLocator.candidates(
            executable: "/src/app/.build/x86_64-unknown-linux-gnu/release/presence", pathVariable: "/usr/local/bin:relative:/usr/bin")
        #expect(
            candidates == [
                "/src/app/.build/x86_64-unknown-linux-gnu/release/nats-server",
                "/src/app/.build/x86_64-unknown-linux-gnu/release/.tools/nats-server/bin/nats-server",
                "/src/app/.build/x86_64-unknown-linux-gnu/.tools/nats-server/bin/nats-server",
                "/src/app/.build/.tools/nats-server/bin/nats-server",
                "/src/app/.tools/nats-server/bin/nats-server",
                "/usr/local/bin/nats-server",
                "/usr/bin/nats-server",
            ])
        let everywhere = Set(candidates)
        let first = try NATSServerLocator.choose(
            configured: "auto", executable: "/src/app/.build/x86_64-unknown-linux-gnu/release/presence",
            pathVariable: "/usr/local/bin:/usr/bin", isExecutable: { everywhere.contains($0) })
        #expect(first == .init(path: candidates[0], named: false))
        let onPath = try NATSServerLocator.choose(
            configured: "auto", executable: "/opt/presence/bin/presence", pathVariable: "/usr/bin",
            isExecutable: { $0 == "/usr/bin/nats-server" })
        #expect(onPath == .init(path: "/usr/bin/nats-server", named: false))
    }

    @Test func aNamedBinaryIsTakenAsItIsAndNoneFoundSaysHowToInstallOne() throws {
        let named = try NATSServerLocator.choose(
            configured: "/opt/nats/nats-server", executable: "/x/presence", pathVariable: "",
            isExecutable: { $0 == "/opt/nats/nats-server" })
        #expect(named == .init(path: "/opt/nats/nats-server", named: true))
        let byName = try NATSServerLocator.choose(
            configured: "nats-server", executable: "/x/presence", pathVariable: "/a:/b",
            isExecutable: { $0 == "/b/nats-server" })
        #expect(byName == .init(path: "nats-server", named: true))
        // A named binary that is not there is a configuration error naming the key, not a
        // failed spawn (setpriv's "No such file or directory" in a log).
        #expect {
            try NATSServerLocator.choose(
                configured: "/opt/nats/nats-server", executable: "/x/presence", pathVariable: "", isExecutable: { _ in false })
        } throws: { error in
            "\(error)" == "invalid value for 'nats.server_binary': '/opt/nats/nats-server' is not an executable file; "
                + "name an installed nats-server, or leave it 'auto' and install the pinned one with "
                + "scripts/install-nats-server.sh (make run does)"
        }
        #expect {
            try NATSServerLocator.choose(configured: "gnatsd", executable: "/x/presence", pathVariable: "/a", isExecutable: { _ in false })
        } throws: { error in
            "\(error)".hasPrefix("invalid value for 'nats.server_binary': no executable 'gnatsd' is on PATH; ")
        }
        #expect(throws: NATSServerLocator.NotFound.self) {
            try NATSServerLocator.choose(configured: "auto", executable: "/x/presence", pathVariable: "/y", isExecutable: { _ in false })
        }
        let message = NATSServerLocator.NotFound(searched: []).description
        #expect(message.contains("scripts/install-nats-server.sh") && message.contains("nats.server_binary"))
    }

    /// A release-archive layout (`bin/presence` and `bin/nats-server`) with a plain PATH:
    /// the nats-server beside the binary runs; one older than 2.10 there is refused with exit 2
    /// and one line, unless `nats.server_binary` names it.
    /// Debian's nats-server package (2.9.10 on bookworm; scripts/install-deps.sh installs it).
    static let systemServer = ["/usr/sbin/nats-server", "/usr/bin/nats-server"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: systemServer != nil, "needs Debian's nats-server package"))
    func theOneBesideTheBinaryRunsAndAnOldOneIsRefusedUnlessNamed() async throws {
        let bin = TemporaryDirectory.make() + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        // Copied by cp, not by this process: a file this process held open for writing would
        // be inherited by a process another test forks meanwhile, and running it would then
        // fail with "Text file busy" (ETXTBSY) until that child execs.
        try Shell.run("cp '\(ServiceProcess.executable.path)' '\(bin)/presence'", in: "/")
        let plainPath = ["PATH": "/usr/bin:/bin"]
        let system = try #require(Self.systemServer)
        let old = try #require(NATSServerSupervisor.version(binary: system))
        try #require(old < NATSServerVersion(2, 10, 0), "Debian bookworm's nats-server is 2.9.10")
        try FileManager.default.createSymbolicLink(atPath: bin + "/nats-server", withDestinationPath: system)
        let refused = try ServiceProcess.serve(
            dataDirectory: TemporaryDirectory.make(), environment: ServiceProcess.testEnvironment(plainPath).merging(["PRESENCE_NATS_SERVER_BINARY": "auto"]) { $1 },
            executable: URL(fileURLWithPath: bin + "/presence"))
        #expect(await refused.waitForExit(timeout: .seconds(20).scaled) == 2)
        let line = refused.output.split(separator: "\n").last { $0.hasPrefix("presence: ") }
        #expect(line?.contains("nats-server \(old) at \(bin)/nats-server is older than 2.10") == true, "\(refused.output)")
        #expect(line?.contains("set nats.server_binary to") == true)

        let named = try ServiceProcess.serve(
            dataDirectory: TemporaryDirectory.make(),
            environment: ServiceProcess.testEnvironment(plainPath).merging(["PRESENCE_NATS_SERVER_BINARY": bin + "/nats-server"]) { $1 },
            executable: URL(fileURLWithPath: bin + "/presence"))
        try await named.waitUntilReady()
        #expect(named.output.contains("chosen=nats.server_binary"))
        named.signal(SIGTERM)
        #expect(await named.waitForExit() == 0)

        // The project's pinned release, as an automatic choice finds it from this test's binary
        // (also under make test-system-nats, which names Debian's for the other tests).
        let pinned = try NATSServerLocator.choose(configured: NATSServerLocator.automatic).path
        try #require((NATSServerSupervisor.version(binary: pinned) ?? NATSServerVersion(0, 0, 0)) >= NATSServerVersion(2, 10, 0))
        try FileManager.default.removeItem(atPath: bin + "/nats-server")
        try FileManager.default.createSymbolicLink(atPath: bin + "/nats-server", withDestinationPath: pinned)
        let beside = try ServiceProcess.serve(
            dataDirectory: TemporaryDirectory.make(), environment: ServiceProcess.testEnvironment(plainPath).merging(["PRESENCE_NATS_SERVER_BINARY": "auto"]) { $1 },
            executable: URL(fileURLWithPath: bin + "/presence"))
        try await beside.waitUntilReady()
        #expect(beside.output.contains("binary=\(bin)/nats-server"), "\(beside.output.suffix(3000))")
        beside.signal(SIGTERM)
        #expect(await beside.waitForExit() == 0)
    }
}
