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
        #expect(text.contains("listen: \"127.0.0.1:7422\""), "loopback unless leaves authenticate")
        #expect(text.contains("pid_file: \"/tmp/d/nats-server.pid\""))
        let withoutSync = NATSServerConfigFile.render(configuration, monitorPort: 8999, syncAlways: false)
        #expect(!withoutSync.contains("sync_interval"))
    }

    @Test func withoutALeafCredentialLeavesLandInThePresenceAccount() {
        let configuration = EmbeddedNATSConfiguration(serverName: "c", dataDirectory: "/tmp/d", mode: .center(leafnodePort: 7422))
        let text = NATSServerConfigFile.render(configuration, monitorPort: 8999, syncAlways: true, localPassword: "pw")
        #expect(text.contains("no_auth_user: \"presence-local\""))
        #expect(text.contains("PRESENCE: {\n    jetstream: enabled"))
        #expect(text.contains("authorization { account: \"PRESENCE\" }"))
        #expect(
            text.contains(#"{user: "presence-local", password: "pw", allowed_connection_types: ["STANDARD", "LEAFNODE"]}"#),
            "nats-server 2.9 maps leaves without credentials to the local user")
        #expect(!text.contains("permissions"), "no leaf user without a credential")
    }

    @Test func withALeafCredentialOnlyThatUserReachesThePresenceAccountAndOnlyForKV() {
        var configuration = EmbeddedNATSConfiguration(serverName: "c", dataDirectory: "/tmp/d", mode: .center(leafnodePort: 7422))
        configuration.leafUser = "leaf"
        configuration.leafPassword = "secret"
        configuration.leafnodeHost = "0.0.0.0"
        let text = NATSServerConfigFile.render(configuration, monitorPort: 8999, syncAlways: true, localPassword: "pw")
        #expect(text.contains("listen: \"0.0.0.0:7422\""))
        #expect(text.contains("authorization { account: \"QUARANTINE\" }"), "a leaf without the credential gets an empty account")
        #expect(text.contains("{user: \"leaf\", password: \"secret\", allowed_connection_types: [\"LEAFNODE\"]"))
        #expect(text.contains(#"{user: "presence-local", password: "pw", allowed_connection_types: ["STANDARD"]}"#))
        let publish = LeafPermissions.publish(bucket: "presence", domain: "hub")
        #expect(publish.contains("$JS.hub.API.STREAM.INFO.KV_presence"))
        #expect(publish.contains("$JS.hub.API.$KV.presence.>"))
        #expect(!publish.contains { $0.contains("DELETE.KV") && $0.contains("STREAM") })
        #expect(!publish.contains { $0.contains("PURGE") || $0.contains("UPDATE") || $0.hasSuffix("STREAM.CREATE.KV_presence") })
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
