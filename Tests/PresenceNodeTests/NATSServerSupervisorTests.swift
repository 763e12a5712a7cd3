import EmbeddedNATS
import Foundation
import Logging
import Testing

@Suite("nats-server supervisor", .serialized, .temporaryFiles, .timeLimit(.minutes(2)))
struct NATSServerSupervisorTests {
    private func configuration() -> EmbeddedNATSConfiguration {
        var configuration = EmbeddedNATSConfiguration(
            serverName: "supervised", dataDirectory: TemporaryDirectory.make(), mode: .center(leafnodePort: 0))
        configuration.clientPort = 0
        return configuration
    }

    /// The nats-server running for `configuration`: the one its pid file names, while it lives.
    private func runningServer(_ configuration: EmbeddedNATSConfiguration) -> pid_t? {
        readPIDFile(configuration.pidFilePath).flatMap { processIsGone($0) ? nil : $0 }
    }

    private var logger: Logger {
        var logger = Logger(label: "supervisor-test")
        logger.logLevel = .critical
        return logger
    }

    @Test func aPortInUseFailsStartWithTheServersOwnMessage() async throws {
        var configuration = configuration()
        let blocker = try ListeningSocket()
        configuration.clientPort = blocker.port
        let supervisor = NATSServerSupervisor(configuration: configuration, logger: logger)
        let error = await #expect(throws: NATSServerSupervisor.StartError.self) { try await supervisor.start() }
        #expect(error?.description.contains("exited at start") == true)
        #expect(runningServer(configuration) == nil)
        await supervisor.stop()
    }

    @Test func aMissingBinaryFailsStartNamingTheKey() async throws {
        var configuration = configuration()
        configuration.serverBinary = "/nonexistent/nats-server"
        let supervisor = NATSServerSupervisor(configuration: configuration, logger: logger)
        let error = await #expect(throws: NATSServerLocator.NotFound.self) { try await supervisor.start() }
        #expect(error?.description.hasPrefix("invalid value for 'nats.server_binary': '/nonexistent/nats-server'") == true)
        #expect(runningServer(configuration) == nil)
    }

    @Test func aStartThatFailsBeforeSpawningStillLetsStopReturn() async throws {
        var configuration = configuration()
        // The data directory cannot be made: a file stands where its parent should be.
        let file = TemporaryDirectory.make() + "/a-file"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        configuration.dataDirectory = file + "/data"
        let supervisor = NATSServerSupervisor(configuration: configuration, logger: logger)
        await #expect(throws: (any Error).self) { try await supervisor.start() }
        let stopped = ContinuousClock.now
        await supervisor.stop()
        #expect(ContinuousClock.now - stopped < .seconds(5).scaled, "stop returns at once: there is nothing to stop")
        #expect(runningServer(configuration) == nil)
    }

    @Test func startTwiceIsRefusedAndStopEndsTheServer() async throws {
        let configuration = configuration()
        let supervisor = NATSServerSupervisor(configuration: configuration, logger: logger)
        try await supervisor.start()
        let pid = try #require(runningServer(configuration))
        await #expect(throws: NATSServerSupervisor.StartError.self) { try await supervisor.start() }
        #expect(runningServer(configuration) == pid, "the second start started nothing")
        await supervisor.stop()
        #expect(await waitUntilGone(pid))
        #expect(runningServer(configuration) == nil)
    }

    @Test func portsTheOSAssignsAreReportedAndKeptAcrossARestart() async throws {
        let configuration = configuration()
        let supervisor = NATSServerSupervisor(configuration: configuration, logger: logger)
        try await supervisor.start()
        let clientPort = supervisor.clientPort
        let leafnodePort = try #require(supervisor.leafnodePort)
        #expect(clientPort != 0)
        #expect(supervisor.clientURL == "nats://127.0.0.1:\(clientPort)")
        #expect(TestLoopback.acceptsConnections(port: clientPort))
        #expect(TestLoopback.acceptsConnections(port: leafnodePort))
        #expect(!supervisor.monitorURL.hasSuffix(":0") && !supervisor.monitorURL.hasSuffix(":-1"))

        // nats-server dies; the supervisor's restart listens on the same ports.
        let pid = try #require(runningServer(configuration))
        kill(pid, SIGKILL)
        let deadline = ContinuousClock.now + .seconds(15)
        var restarted = false
        while ContinuousClock.now < deadline {
            if let now = runningServer(configuration), now != pid, TestLoopback.acceptsConnections(port: clientPort),
                TestLoopback.acceptsConnections(port: leafnodePort)
            {
                restarted = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(restarted, "the restarted server must listen on the ports the first one was given")
        #expect(supervisor.clientPort == clientPort)
        await supervisor.stop()
    }
}
