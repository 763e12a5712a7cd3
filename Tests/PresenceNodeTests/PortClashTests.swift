import Foundation
import Testing

@testable import PresenceNode

/// A port another process holds stops start-up with one line naming the key to change.
@Suite("Port clashes", .temporaryFiles)
struct PortClashTests {
    @Test func eachListenerThatIsTakenIsNamedByItsKey() throws {
        let holder = try ListeningSocket()
        var configuration = NodeConfiguration()
        configuration.httpHost = "127.0.0.1"
        configuration.natsClientPort = 0
        configuration.natsLeafnodePort = 0
        configuration.natsMonitorPort = 0
        configuration.httpPort = holder.port
        #expect(throws: ConfigurationError.self) { try PortClash.check(configuration, only: .http) }
        do {
            try PortClash.check(configuration, only: .http)
        } catch {
            #expect(error.description.hasPrefix("service.http.port: port \(holder.port) on 127.0.0.1 is already in use"))
            #expect(error.description.contains("--http-port") && !error.description.contains("\n"))
        }
        configuration.httpPort = 0
        #expect(throws: Never.self) { try PortClash.check(configuration, only: .http) }
        configuration.natsLeafnodePort = holder.port
        configuration.natsLeafnodeHost = "127.0.0.1"
        #expect(throws: Never.self) { try PortClash.check(configuration, only: .http) }
        #expect(throws: ConfigurationError.self) { try PortClash.check(configuration, only: .nats) }
        configuration.natsLeafnodePort = 0
        configuration.natsClientPort = holder.port
        do {
            try PortClash.check(configuration, only: .nats)
            Issue.record("a taken NATS client port was not noticed")
        } catch {
            #expect(error.description.hasPrefix("nats.client_port: port \(holder.port)"))
        }
    }

    @Test func twoKeysWithOnePortAreRefused() throws {
        var configuration = NodeConfiguration()
        // Said before any port is tried, so whatever listens on 4222 here does not matter.
        configuration.httpPort = 4222
        configuration.natsClientPort = 4222
        do {
            try PortClash.check(configuration, only: .http)
            Issue.record("one port for two listeners was accepted")
        } catch {
            #expect(error.description == "nats.client_port and service.http.port are both 4222: give each its own port")
        }
        // Two hosts may share a port number.
        configuration.httpHost = "127.0.0.2"
        #expect(PortClash.listeners(of: configuration)[0].overlaps(PortClash.listeners(of: configuration)[1]) == false)
    }

    @Test func aNodeWhoseHTTPPortIsTakenSaysSoInOneLineAndExits2() async throws {
        let holder = try ListeningSocket()
        let service = try ServiceProcess.serve(dataDirectory: TemporaryDirectory.make(), httpPort: holder.port)
        #expect(await service.waitForExit() == 2)
        let lines = service.output.split(separator: "\n").filter { $0.hasPrefix("presence: ") }
        #expect(lines.count == 1 && lines.first?.contains("service.http.port: port \(holder.port)") == true, "\(service.output)")
        withExtendedLifetime(holder) {}
    }
}
