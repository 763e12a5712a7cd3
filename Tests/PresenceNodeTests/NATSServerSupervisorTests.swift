import EmbeddedNATS
import Foundation
import Logging
import Testing

@Suite("nats-server supervisor", .serialized, .timeLimit(.minutes(2)))
struct NATSServerSupervisorTests {
    private func configuration() -> EmbeddedNATSConfiguration {
        var configuration = EmbeddedNATSConfiguration(
            serverName: "supervised", dataDirectory: TemporaryDirectory.make(), mode: .center(leafnodePort: FreePort.next()))
        configuration.clientPort = FreePort.next()
        return configuration
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
        #expect(supervisor.serverPID == nil)
        await supervisor.stop()
    }

    @Test func aMissingBinaryFailsStart() async throws {
        var configuration = configuration()
        configuration.serverBinary = "/nonexistent/nats-server"
        let supervisor = NATSServerSupervisor(configuration: configuration, logger: logger)
        await #expect(throws: NATSServerSupervisor.StartError.self) { try await supervisor.start() }
    }

    @Test func startTwiceIsRefusedAndStopEndsTheServer() async throws {
        let supervisor = NATSServerSupervisor(configuration: configuration(), logger: logger)
        try await supervisor.start()
        let pid = try #require(supervisor.serverPID)
        await #expect(throws: NATSServerSupervisor.StartError.self) { try await supervisor.start() }
        await supervisor.stop()
        #expect(await waitUntilGone(pid))
        #expect(supervisor.serverPID == nil)
    }
}

/// A TCP socket listening on a free loopback port, closed on deinit.
final class ListeningSocket {
    let descriptor: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let port = FreePort.next()
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw CancellationError()
        }
        self.descriptor = fd
        self.port = port
    }

    deinit { close(descriptor) }
}
