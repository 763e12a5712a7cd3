import Testing

@testable import EmbeddedNATS

struct NATSServerConfigFileTests {
    @Test func centerRunsJetStreamInDomainHubAndListensForLeaves() {
        var configuration = EmbeddedNATSConfiguration(serverName: "center-1", dataDirectory: "/tmp/d", mode: .center(leafnodePort: 7422))
        configuration.clientPort = 4333
        let text = NATSServerConfigFile.render(configuration, monitorPort: 8999, syncAlways: true)
        #expect(text.contains("port: 4333"))
        #expect(text.contains("http: \"127.0.0.1:8999\""))
        #expect(text.contains("store_dir: \"/tmp/d/jetstream\""))
        #expect(text.contains("domain: \"hub\""))
        #expect(text.contains("sync_interval: always"))
        #expect(text.contains("listen: \"0.0.0.0:7422\""))
        #expect(text.contains("pid_file: \"/tmp/d/nats-server.pid\""))
        let withoutSync = NATSServerConfigFile.render(configuration, monitorPort: 8999, syncAlways: false)
        #expect(!withoutSync.contains("sync_interval"))
    }

    @Test func leafHasNoJetStreamAndConnectsToTheHub() {
        let configuration = EmbeddedNATSConfiguration(
            serverName: "leaf-eu-1", dataDirectory: "/tmp/l", mode: .leaf(hubURLs: ["nats-leaf://center:7422"]))
        let text = NATSServerConfigFile.render(configuration, monitorPort: 8000, syncAlways: true)
        #expect(!text.contains("jetstream"))
        #expect(text.contains("remotes: [ { urls: [\"nats-leaf://center:7422\"] } ]"))
    }

    @Test func logLinesKeepTheirLevel() {
        #expect(NATSServerLogLine("[1] 2026/11/21 10:00:00.000000 [WRN] careful").level == .warning)
        #expect(NATSServerLogLine("[1] 2026/11/21 10:00:00.000000 [ERR] broken").message == "broken")
        #expect(NATSServerLogLine("plain").level == .info)
    }
}
