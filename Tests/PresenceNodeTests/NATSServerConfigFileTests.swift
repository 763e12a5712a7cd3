import Foundation
import HummingbirdBcrypt
import Testing

@testable import EmbeddedNATS

@Suite(.temporaryFiles)
struct NATSServerConfigFileTests {
    @Test func centerRunsJetStreamInDomainHubAndListensForLeaves() {
        var configuration = EmbeddedNATSConfiguration(serverName: "center-1", dataDirectory: "/tmp/d", mode: .center(leafnodePort: 7422))
        configuration.clientPort = 4333
        let text = NATSServerConfigFile.render(configuration, monitorPort: 8999, syncAlways: true, client: Self.client)
        #expect(text.contains("port: 4333"))
        #expect(text.contains("http: \"127.0.0.1:8999\""))
        #expect(text.contains("store_dir: \"/tmp/d/jetstream\""))
        #expect(text.contains("domain: \"hub\""))
        #expect(text.contains("sync_interval: always"))
        #expect(text.contains("listen: \"127.0.0.1:7422\""), "loopback unless leaves authenticate")
        #expect(text.contains("pid_file: \"/tmp/d/nats-server.pid\""))
        let withoutSync = NATSServerConfigFile.render(configuration, monitorPort: 8999, syncAlways: false, client: Self.client)
        #expect(!withoutSync.contains("sync_interval"))
    }

    static let client = NATSClientCredential(user: "presence-test", password: "client-pw")
    /// Marks where a password is hashed (the real hashing, bcrypt, is tested on its own).
    static let hashed: @Sendable (String) -> String = { plain in "bcrypt(\(plain))" }

    @Test func withoutALeafCredentialOnlyLeavesNeedNoCredentialAndTheyAreHeldToTheLeafPermissions() {
        let configuration = EmbeddedNATSConfiguration(serverName: "c", dataDirectory: "/tmp/d", mode: .center(leafnodePort: 7422))
        let text = NATSServerConfigFile.render(
            configuration, monitorPort: 8999, syncAlways: true, client: Self.client, anonymousLeafPassword: "pw", hashPassword: Self.hashed)
        #expect(text.contains("no_auth_user: \"presence-leaf-anonymous\""))
        #expect(text.contains("PRESENCE: {\n    jetstream: enabled"))
        #expect(text.contains(#"{user: "presence-test", password: "bcrypt(client-pw)", allowed_connection_types: ["STANDARD"]}"#))
        #expect(
            text.contains(#"{user: "presence-leaf-anonymous", password: "pw", allowed_connection_types: ["LEAFNODE"], permissions: {"#),
            "a connection without credentials may only be a leaf, and only for the presence records")
        #expect(text.contains(#"subscribe: { allow: ["_INBOX_LEAF.>", "$LDS.>"] }"#))
    }

    @Test func aLeafSubscribesOnlyToItsOwnInboxPrefixAndPublishesToNoInbox() {
        #expect(LeafPermissions.subscribe(leafUser: "eu-1") == ["_INBOX_LEAF.eu-1.>", "$LDS.>"])
        #expect(LeafPermissions.inboxPrefix(leafUser: "a.b") == "_INBOX_LEAF.=612e62", "one subject token per user")
        #expect(LeafPermissions.inboxPrefix(leafUser: "a") != LeafPermissions.inboxPrefix(leafUser: "a.b"))
        #expect(!LeafPermissions.publish(bucket: "presence", domain: "hub").contains { $0.hasPrefix("_INBOX") })
        var leaf = EmbeddedNATSConfiguration(serverName: "l", dataDirectory: "/tmp/l", mode: .leaf(hubURLs: ["nats-leaf://c:7422"]))
        leaf.leafUser = "eu-1"
        #expect(leaf.inboxPrefix == "_INBOX_LEAF.eu-1")
        let text = NATSServerConfigFile.render(leaf, monitorPort: 0, syncAlways: false, client: Self.client, hashPassword: Self.hashed)
        #expect(text.contains(#"authorization { user: "presence-test", password: "bcrypt(client-pw)" }"#), "the leaf's client port too")
    }

    @Test func eachLeafCredentialIsItsOwnUserWithItsOwnInboxes() {
        var configuration = EmbeddedNATSConfiguration(serverName: "c", dataDirectory: "/tmp/d", mode: .center(leafnodePort: 7422))
        configuration.leafUser = "eu-1"
        configuration.leafPassword = "pw-eu"
        configuration.moreLeafCredentials = [.init(user: "us-1", password: "pw-us")]
        let text = NATSServerConfigFile.render(configuration, monitorPort: 8999, syncAlways: true, client: Self.client, hashPassword: Self.hashed)
        #expect(text.contains(#"no_auth_user: "presence-nobody""#))
        #expect(text.contains(#"{user: "eu-1", password: "bcrypt(pw-eu)", allowed_connection_types: ["LEAFNODE"]"#))
        #expect(text.contains(#"{user: "us-1", password: "bcrypt(pw-us)", allowed_connection_types: ["LEAFNODE"]"#))
        #expect(text.contains(#"subscribe: { allow: ["_INBOX_LEAF.eu-1.>", "$LDS.>"] }"#))
        #expect(text.contains(#"subscribe: { allow: ["_INBOX_LEAF.us-1.>", "$LDS.>"] }"#))
    }

    @Test func withALeafCredentialOnlyThatUserReachesThePresenceAccountAndOnlyForKV() {
        var configuration = EmbeddedNATSConfiguration(serverName: "c", dataDirectory: "/tmp/d", mode: .center(leafnodePort: 7422))
        configuration.leafUser = "leaf"
        configuration.leafPassword = "secret"
        configuration.leafnodeHost = "0.0.0.0"
        let text = NATSServerConfigFile.render(
            configuration, monitorPort: 8999, syncAlways: true, client: Self.client, anonymousLeafPassword: "pw", hashPassword: Self.hashed)
        #expect(text.contains("listen: \"0.0.0.0:7422\""))
        #expect(text.contains("{user: \"leaf\", password: \"bcrypt(secret)\", allowed_connection_types: [\"LEAFNODE\"]"))
        #expect(text.contains(#"{user: "presence-test", password: "bcrypt(client-pw)", allowed_connection_types: ["STANDARD"]}"#))
        #expect(text.contains(#"no_auth_user: "presence-nobody""#), "with a leaf credential, nobody gets in without one")
        #expect(text.contains(#"{user: "presence-nobody", password: "bcrypt(pw)", allowed_connection_types: ["MQTT"]}"#))
        let publish = LeafPermissions.publish(bucket: "presence", domain: "hub")
        #expect(publish.contains("$JS.hub.API.STREAM.INFO.KV_presence"))
        #expect(publish.contains("$JS.hub.API.$KV.presence.>"))
        #expect(!publish.contains { $0.contains("DELETE.KV") && $0.contains("STREAM") })
        #expect(!publish.contains { $0.contains("PURGE") || $0.contains("UPDATE") || $0.hasSuffix("STREAM.CREATE.KV_presence") })
    }

    @Test func leavesMayPublishAndSubscribeToTheHeartbeatPlaneAndNoOtherCoreSubject() {
        var configuration = EmbeddedNATSConfiguration(serverName: "c", dataDirectory: "/tmp/d", mode: .center(leafnodePort: 7422))
        configuration.leafUser = "eu-1"
        configuration.leafPassword = "pw"
        configuration.heartbeatSubject = "presence.heartbeats.presence"
        let text = NATSServerConfigFile.render(configuration, monitorPort: 8999, syncAlways: true, client: Self.client)
        #expect(text.contains(#"subscribe: { allow: ["_INBOX_LEAF.eu-1.>", "$LDS.>", "presence.heartbeats.presence"] }"#))
        let publish = LeafPermissions.publish(bucket: "presence", domain: "hub", heartbeats: "presence.heartbeats.presence")
        #expect(publish.last == "presence.heartbeats.presence")
        #expect(text.contains(#""$JS.FC.KV_presence.>", "presence-audit.>", "presence.heartbeats.presence"] }"#))
        // Beside the plane's one subject and the audit stream's appends, only JetStream and KV
        // subjects: no other wildcard of ours.
        #expect(publish.filter { !$0.hasPrefix("$") } == ["presence-audit.>", "presence.heartbeats.presence"])
        #expect(!LeafPermissions.publish(bucket: "presence", domain: "hub").contains { $0.hasPrefix("presence.") })
    }

    @Test func aClusteredCenterRoutesToTheOtherCentersWithTheRouteCredential() {
        var configuration = EmbeddedNATSConfiguration(serverName: "c1", dataDirectory: "/tmp/d", mode: .center(leafnodePort: 7422))
        var cluster = EmbeddedNATSConfiguration.Cluster(
            name: "presence", host: "0.0.0.0", port: 6222, routes: ["nats-route://c2:6222", "nats-route://c3:6222"])
        cluster.user = "route"
        cluster.password = "p@ss"
        cluster.tls = .init(certFile: "c.pem", keyFile: "k.pem", caFile: "ca.pem")
        configuration.cluster = cluster
        let text = NATSServerConfigFile.render(configuration, monitorPort: 8999, syncAlways: true, client: Self.client)
        #expect(text.contains("cluster {\n  name: \"presence\"\n  listen: \"0.0.0.0:6222\""))
        #expect(text.contains(#"routes: ["nats-route://route:p%40ss@c2:6222", "nats-route://route:p%40ss@c3:6222"]"#))
        #expect(text.contains(#"authorization { user: "route", password: "p@ss" }"#))
        #expect(text.contains(#"tls { cert_file: "c.pem", key_file: "k.pem", ca_file: "ca.pem", verify: true }"#))
        #expect(text.contains("server_name: \"c1\""), "server names are unique in a cluster: the node id")
        configuration.cluster = nil
        #expect(!NATSServerConfigFile.render(configuration, monitorPort: 8999, syncAlways: true, client: Self.client).contains("cluster {"))
    }

    @Test func leafHasNoJetStreamAndConnectsToTheHub() {
        let configuration = EmbeddedNATSConfiguration(
            serverName: "leaf-eu-1", dataDirectory: "/tmp/l", mode: .leaf(hubURLs: ["nats-leaf://center:7422"]))
        let text = NATSServerConfigFile.render(configuration, monitorPort: 8000, syncAlways: true, client: Self.client)
        #expect(!text.contains("jetstream"))
        #expect(text.contains("remotes: [ { urls: [\"nats-leaf://center:7422\"] } ]"))
        #expect(text.contains("reconnect: \"1s\""), "a duration: a bare number makes nats-server warn about our file")
        #expect(text.contains("connect_error_reports: 1"), "every failed attempt is logged, so the readiness reason stays current")
    }

    @Test func portsLeftAtZeroAreAssignedByTheOSAndReported() {
        var configuration = EmbeddedNATSConfiguration(serverName: "c", dataDirectory: "/tmp/z", mode: .center(leafnodePort: 0))
        configuration.clientPort = 0
        let text = NATSServerConfigFile.render(configuration, monitorPort: 0, syncAlways: false, client: Self.client)
        #expect(text.contains("port: -1"))
        #expect(text.contains("http: \"127.0.0.1:-1\""))
        #expect(text.contains("listen: \"127.0.0.1:-1\""))
        #expect(text.contains("ports_file_dir: \"/tmp/z\""))
        let pinned = configuration.pinned(to: NATSServerPorts(client: 40001, monitor: 40002, leafnode: 40003))
        let restart = NATSServerConfigFile.render(pinned, monitorPort: pinned.monitorPort, syncAlways: false, client: Self.client)
        #expect(restart.contains("port: 40001"))
        #expect(restart.contains("http: \"127.0.0.1:40002\""))
        #expect(restart.contains("listen: \"127.0.0.1:40003\""))
    }

    @Test func thePortsFileOfTheRightProcessIsRead() throws {
        let directory = TemporaryDirectory.make()
        try #"{"nats":["nats://127.0.0.1:4333"],"monitoring":["http://127.0.0.1:8999"]}"#.write(
            toFile: directory + "/nats-server_4242.ports", atomically: true, encoding: .utf8)
        try #"{"nats":["nats://127.0.0.1:1"],"monitoring":["http://127.0.0.1:2"]}"#.write(
            toFile: directory + "/nats-server_77.ports", atomically: true, encoding: .utf8)
        let ports = NATSServerPorts.read(directory: directory, pid: 4242, expectsLeafnodes: false)
        #expect(ports == NATSServerPorts(client: 4333, monitor: 8999, leafnode: nil))
        #expect(NATSServerPorts.read(directory: directory, pid: 4243, expectsLeafnodes: false) == nil)
        NATSServerPorts.removeStale(directory: directory)
        #expect(NATSServerPorts.read(directory: directory, pid: 4242, expectsLeafnodes: false) == nil)
    }

    @Test func logLinesKeepTheirLevel() {
        #expect(NATSServerLogLine("[1] 2026/11/21 10:00:00.000000 [WRN] careful").level == .warning)
        #expect(NATSServerLogLine("[1] 2026/11/21 10:00:00.000000 [ERR] broken").message == "broken")
        #expect(NATSServerLogLine("plain").level == .info)
    }
}

/// Which nats-server releases check a leaf user's permissions at the hub.
struct NATSServerVersionTests {
    @Test func versionsAreReadAndCompared() {
        #expect(NATSServerVersion(parsing: "nats-server: v2.9.10\n") == NATSServerVersion(2, 9, 10))
        #expect(NATSServerVersion(parsing: "v2.15.1") == NATSServerVersion(2, 15, 1))
        #expect(NATSServerVersion(parsing: "nonsense") == nil)
        let checks = [("2.9.10", false), ("2.10.20", false), ("2.11.15", false), ("2.11.16", true), ("2.12.6", false),
            ("2.12.7", true), ("2.13.4", false), ("2.14.0", true), ("2.15.1", true)]
        for (text, enforced) in checks {
            #expect(NATSServerVersion(parsing: text)?.enforcesLeafPermissionsAtTheHub == enforced, "\(text)")
        }
    }
}

/// The passwords of the generated configuration are bcrypt hashes nats-server accepts.
struct BcryptTests {
    /// Hashes made with libxcrypt's crypt(3) (`$2b$`) are read as nats-server's Go bcrypt
    /// reads them, and the generated ones are `$2b$04$`.
    @Test func hashesAgreeWithAnotherImplementation() {
        for (password, expected) in BcryptVectors.all {
            #expect(Bcrypt.verify(password, hash: expected), "\(password)")
            #expect(!Bcrypt.verify("x" + password, hash: expected))
        }
        let generated = NATSServerConfigFile.bcrypt("secretpw")
        #expect(generated.hasPrefix("$2b$04$") && generated.count == 60)
        #expect(Bcrypt.verify("secretpw", hash: generated))
    }

    @Test func theGeneratedConfigurationHoldsNoPasswordInPlainText() {
        var configuration = EmbeddedNATSConfiguration(serverName: "c", dataDirectory: "/tmp/d", mode: .center(leafnodePort: 7422))
        configuration.leafUser = "eu-1"
        configuration.leafPassword = "leaf-secret"
        let text = NATSServerConfigFile.render(
            configuration, monitorPort: 8999, syncAlways: true, client: NATSServerConfigFileTests.client, anonymousLeafPassword: "anon-secret")
        for plain in ["client-pw", "leaf-secret", "anon-secret"] {
            #expect(!text.contains(plain), "\(plain) is hashed")
        }
        let hashes = text.split(separator: "\"").filter { $0.hasPrefix("$2b$04$") }
        #expect(hashes.count == 3)
        #expect(hashes.contains { Bcrypt.verify("client-pw", hash: String($0)) })
        #expect(hashes.contains { Bcrypt.verify("leaf-secret", hash: String($0)) })
        #expect(hashes.contains { Bcrypt.verify("anon-secret", hash: String($0)) })
    }

    /// The one plain password: nats-server compares the no_auth_user's stored password with
    /// itself, so the anonymous leaf user's cannot be a hash; its warning is not the operator's.
    @Test func theAnonymousLeafUsersPasswordStaysPlainAndItsWarningIsQuiet() {
        let configuration = EmbeddedNATSConfiguration(serverName: "c", dataDirectory: "/tmp/d", mode: .center(leafnodePort: 7422))
        let text = NATSServerConfigFile.render(
            configuration, monitorPort: 8999, syncAlways: true, client: NATSServerConfigFileTests.client, anonymousLeafPassword: "anon-secret")
        #expect(text.contains(#"{user: "presence-leaf-anonymous", password: "anon-secret", "#))
        #expect(!text.contains("client-pw"))
        let warning = NATSServerLogLine("[1] 2026/12/07 10:00:00.000000 [WRN] Plaintext passwords detected, use nkeys or bcrypt")
        #expect(warning.isAboutTheGeneratedFile)
        #expect(!NATSServerLogLine("[1] 2026/12/07 10:00:00.000000 [WRN] other").isAboutTheGeneratedFile)
    }
}
