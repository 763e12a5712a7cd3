import EmbeddedNATS
import Foundation
import Logging
import Testing

@testable import PresenceNode

/// Configuration layering (SPEC §7): flags > environment > file > defaults, unknown keys and
/// bad values stop start-up naming the key, `${VAR}` expands from the environment.
@Suite(.temporaryFiles)
struct NodeConfigurationTests {
    private func file(_ text: String) throws -> String {
        let path = TemporaryDirectory.make() + "/presence.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func defaultsMatchTheSpec() throws {
        let configuration = try NodeConfiguration.load(file: nil, environment: [:], flags: [:])
        #expect(configuration.role == .center)
        #expect(configuration.httpPort == 8080)
        #expect(configuration.httpHost == "0.0.0.0")
        #expect(configuration.httpHeaderTimeout == 10)
        #expect(configuration.httpIdleTimeout == 60)
        #expect(configuration.natsEmbedded)
        #expect(configuration.dataDirectory == "./data")
        #expect(configuration.natsClientPort == 4222)
        #expect(configuration.natsLeafnodePort == 7422)
        #expect(configuration.natsMonitorPort == 0)
        #expect(configuration.cacheMaxCost == 67_108_864)
        #expect(configuration.cacheNegativeTTL == 5)
        #expect(configuration.defaultTTL == 300)
        #expect(configuration.retention == 2_592_000)
        #expect(configuration.publicReads)
        #expect(configuration.leewaySeconds == 5)
        #expect(configuration.writesPerSecond == 10)
        #expect(configuration.writeBurst == 20)
        #expect(configuration.jwtSecret == nil)
        #expect(configuration.logLevel == .info)
    }

    @Test func priorityIsFlagsThenEnvironmentThenFile() throws {
        let path = try file(
            """
            service:
              node_id: from-file
              http: { host: 127.0.0.1, port: 9000 }
            presence:
              default_ttl: 60
            nats:
              hub_urls: ["nats-leaf://a:7422", "nats-leaf://b:7422"]
            """)
        let fileOnly = try NodeConfiguration.load(file: path, environment: [:], flags: [:])
        #expect(fileOnly.nodeID == "from-file")
        #expect(fileOnly.httpPort == 9000)
        #expect(fileOnly.httpHost == "127.0.0.1")
        #expect(fileOnly.defaultTTL == 60)
        #expect(fileOnly.hubURLs == ["nats-leaf://a:7422", "nats-leaf://b:7422"])

        let environment = ["PRESENCE_SERVICE_HTTP_PORT": "9001", "PRESENCE_SERVICE_NODE_ID": "from-env"]
        let withEnvironment = try NodeConfiguration.load(file: path, environment: environment, flags: [:])
        #expect(withEnvironment.httpPort == 9001)
        #expect(withEnvironment.nodeID == "from-env")
        #expect(withEnvironment.defaultTTL == 60)

        let withFlags = try NodeConfiguration.load(
            file: path, environment: environment, flags: ["service.http.port": "9002"])
        #expect(withFlags.httpPort == 9002)
        #expect(withFlags.nodeID == "from-env")
    }

    @Test func theShippedExampleConfigurationLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("config/standalone.yaml").path
        let configuration = try NodeConfiguration.load(file: path, environment: ["JWT_SECRET": "from-env"], flags: [:])
        #expect(configuration.jwtSecret == "from-env")
        var defaults = NodeConfiguration()
        defaults.jwtSecret = "from-env"
        defaults.nodeID = configuration.nodeID
        #expect(configuration == defaults, "the example lists every key at its default")
    }

    @Test func theCenterAndLeafExamplesLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let environment = ["JWT_SECRET": "s", "LEAF_PASSWORD": "p"]
        let center = try NodeConfiguration.load(
            file: root.appendingPathComponent("config/center.yaml").path, environment: environment, flags: [:])
        #expect(center.role == .center)
        #expect(center.leafPassword == "p")
        let leaf = try NodeConfiguration.load(
            file: root.appendingPathComponent("config/leaf.yaml").path, environment: environment, flags: [:])
        #expect(leaf.role == .leaf)
        #expect(leaf.hubURLs == ["nats-leaf://127.0.0.1:7422"])
        #expect(leaf.leafUser == center.leafUser)
        let clustered = try NodeConfiguration.load(
            file: root.appendingPathComponent("config/cluster-center.yaml").path,
            environment: environment.merging(["NODE_ID": "center-2", "ROUTE_PASSWORD": "r"]) { $1 }, flags: [:])
        #expect(clustered.isClusteredCenter && clustered.replicas == 3 && clustered.nodeID == "center-2")
        #expect(clustered.clusterRoutes.count == 3 && clustered.routePassword == "r")
    }

    @Test func jwtSecretComesFromTheEnvironmentOrTheFile() throws {
        let path = try file("auth:\n  jwt_secret: file-secret\n")
        #expect(try NodeConfiguration.load(file: path, environment: [:], flags: [:]).jwtSecret == "file-secret")
        #expect(
            try NodeConfiguration.load(file: path, environment: ["JWT_SECRET": "env-secret"], flags: [:]).jwtSecret
                == "env-secret")
    }

    @Test func variablesExpandFromTheEnvironment() throws {
        let path = try file("auth:\n  jwt_secret: ${MY_SECRET}\nservice:\n  node_id: node-${REGION}-1\n")
        let configuration = try NodeConfiguration.load(
            file: path, environment: ["MY_SECRET": "s3cret", "REGION": "eu"], flags: [:])
        #expect(configuration.jwtSecret == "s3cret")
        #expect(configuration.nodeID == "node-eu-1")
        let unset = try NodeConfiguration.load(file: path, environment: [:], flags: [:])
        #expect(unset.jwtSecret == nil, "an unset variable expands to nothing, which is no secret")
    }

    @Test func unknownKeysFailNamingTheKey() throws {
        let path = try file("cache:\n  max_cots: 5\n")
        let error = #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.load(file: path, environment: [:], flags: [:])
        }
        #expect(error?.description.contains("cache.max_cots") == true)
    }

    /// Exactly what Kubernetes injects into every pod for a Service named `presence`
    /// (docker-link style variables included): none of it names a key, none of it may stop a node.
    @Test func variablesKubernetesInjectsAreIgnoredAndListed() throws {
        let injected = [
            "PRESENCE_SERVICE_HOST": "10.96.0.12", "PRESENCE_SERVICE_PORT": "8080",
            "PRESENCE_SERVICE_PORT_HTTP": "8080", "PRESENCE_PORT": "tcp://10.96.0.12:8080",
            "PRESENCE_PORT_8080_TCP": "tcp://10.96.0.12:8080", "PRESENCE_PORT_8080_TCP_PROTO": "tcp",
            "PRESENCE_PORT_8080_TCP_PORT": "8080", "PRESENCE_PORT_8080_TCP_ADDR": "10.96.0.12",
        ]
        var environment = injected
        environment["PRESENCE_SERVICE_HTTP_PORT"] = "9001"
        let configuration = try NodeConfiguration.load(file: nil, environment: environment, flags: [:])
        #expect(configuration.httpPort == 9001, "known variables still apply")
        #expect(configuration.ignoredEnvironmentVariables == injected.keys.sorted())
        #expect(configuration.nodeID == NodeConfiguration().nodeID)
    }

    @Test func invalidValuesFailNamingTheKey() throws {
        let cases: [(String, String)] = [
            ("service:\n  http:\n    port: eighty\n", "service.http.port"),
            ("service:\n  http:\n    port: 70000\n", "service.http.port"),
            ("service:\n  http:\n    header_timeout: 0\n", "service.http.header_timeout"),
            ("service:\n  http:\n    idle_timeout: soon\n", "service.http.idle_timeout"),
            ("service:\n  role: hub\n", "service.role"),
            ("nats:\n  embedded: maybe\n", "nats.embedded"),
            ("presence:\n  default_ttl: 5\n", "presence.default_ttl"),
            ("log_level: loud\n", "log_level"),
            ("rate_limit:\n  writes_per_second: -1\n", "rate_limit.writes_per_second"),
            ("service:\n  role: leaf\n", "nats.hub_urls"),
            ("stream:\n  max_buffered_bytes: 100\n", "stream.max_buffered_bytes"),
            ("stream:\n  max_buffered_bytes: 1048576\n  max_total_buffered_bytes: 65536\n", "stream.max_total_buffered_bytes"),
            ("nats:\n  client_port: -1\n", "nats.client_port"),
            // A route port reachable from elsewhere without a route credential: an open door.
            ("nats:\n  cluster:\n    port: 6222\n    host: 0.0.0.0\n", "nats.cluster.host"),
            ("nats:\n  route_user: r\n", "nats.route_password"),
            ("nats:\n  route_tls:\n    ca_file: ca.pem\n", "nats.route_tls.cert_file"),
            ("nats:\n  cluster:\n    port: 6222\n    name: \"two words\"\n", "nats.cluster.name"),
            // Three copies asked of a center that has no cluster to keep them in.
            ("nats:\n  replicas: 3\n", "nats.cluster.port"),
            // A clustered center that would keep the bucket on one of them.
            ("nats:\n  cluster:\n    port: 6222\n", "nats.replicas"),
        ]
        for (text, key) in cases {
            let path = try file(text)
            let error = #expect(throws: ConfigurationError.self, "\(text)") {
                try NodeConfiguration.load(file: path, environment: [:], flags: [:])
            }
            #expect(error?.description.contains(key) == true, "\(error?.description ?? "no error") should name \(key)")
        }
        let environmentError = #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.load(file: nil, environment: ["PRESENCE_CACHE_NEGATIVE_TTL": "soon"], flags: [:])
        }
        #expect(environmentError?.description.contains("cache.negative_ttl") == true)
    }

    @Test func aClusteredCenterListensForRoutesWhereTheRulesAllow() throws {
        let open = try file(
            "nats:\n  replicas: 3\n  cluster:\n    port: 6222\n    host: 0.0.0.0\n    routes: [\"nats-route://c2:6222\"]\n"
                + "  route_user: r\n  route_password: p\n")
        let configuration = try NodeConfiguration.load(file: open, environment: [:], flags: [:])
        #expect(configuration.isClusteredCenter)
        let cluster = try #require(EmbeddedNATSConfiguration(configuration).cluster)
        #expect(cluster.host == "0.0.0.0" && cluster.port == 6222 && cluster.routes == ["nats-route://c2:6222"])
        #expect(cluster.user == "r" && cluster.password == "p")
        let standalone = try NodeConfiguration.load(file: nil, environment: [:], flags: [:])
        #expect(!standalone.isClusteredCenter)
        #expect(EmbeddedNATSConfiguration(standalone).cluster == nil, "port 0: not clustered")
        let flags = try NodeConfiguration.flagValues(byOption: ["cluster-port": "7000", "route": "nats-route://a:7000,nats-route://b:7000"])
        let fromFlags = try NodeConfiguration.load(file: nil, environment: ["PRESENCE_NATS_REPLICAS": "3"], flags: flags)
        #expect(fromFlags.clusterPort == 7000 && fromFlags.clusterRoutes == ["nats-route://a:7000", "nats-route://b:7000"])
        #expect(fromFlags.clusterHost == "127.0.0.1", "loopback unless routes authenticate")
    }

    @Test func streamMemoryBoundsAndOSAssignedPortsAreConfigurable() throws {
        let defaults = try NodeConfiguration.load(file: nil, environment: [:], flags: [:])
        #expect(defaults.streamMaxBufferedBytes == 262_144)
        #expect(defaults.streamMaxTotalBufferedBytes == 67_108_864)
        let path = try file(
            """
            stream:
              max_buffered_bytes: 65536
              max_total_buffered_bytes: 1048576
            nats:
              client_port: 0
              leafnode_port: 0
            """)
        let configuration = try NodeConfiguration.load(
            file: path, environment: ["PRESENCE_STREAM_MAX_TOTAL_BUFFERED_BYTES": "2097152"], flags: [:])
        #expect(configuration.streamMaxBufferedBytes == 65_536)
        #expect(configuration.streamMaxTotalBufferedBytes == 2_097_152)
        #expect(configuration.natsClientPort == 0)
        #expect(configuration.natsLeafnodePort == 0)
    }

    @Test func corsOriginsMustBeOrigins() throws {
        for good in ["*", "https://app.example.com", "http://localhost:3000", "https://App.Example.com"] {
            let configuration = try NodeConfiguration.load(
                file: nil, environment: ["PRESENCE_SERVICE_HTTP_CORS_ALLOWED_ORIGINS": good], flags: [:])
            #expect(configuration.corsAllowedOrigins == [good])
        }
        for bad in [
            "https://app.example.com/", "app.example.com", "https://*.example.com", "ftp://x", "https://app.example.com:443",
            "https://user@app.example.com", "https://app.example.com?x",
        ] {
            let error = #expect(throws: ConfigurationError.self, "\(bad)") {
                try NodeConfiguration.load(file: nil, environment: ["PRESENCE_SERVICE_HTTP_CORS_ALLOWED_ORIGINS": bad], flags: [:])
            }
            #expect(error?.description.contains("service.http.cors.allowed_origins") == true)
        }
    }

    @Test func noSecretRefusesUnlessDevMode() throws {
        var configuration = NodeConfiguration()
        configuration.dataDirectory = TemporaryDirectory.make()
        let logger = Logger(label: "test")
        let error = #expect(throws: ConfigurationError.self) {
            try PresenceNode.resolveSecret(&configuration, logger: logger)
        }
        #expect(error?.description.contains("JWT_SECRET") == true)
        #expect(error?.description.contains("auth.jwt_secret") == true)

        configuration.developmentMode = true
        try PresenceNode.resolveSecret(&configuration, logger: logger)
        let generated = try #require(configuration.jwtSecret)
        #expect(generated.count >= 32)
        var again = configuration
        again.jwtSecret = nil
        try PresenceNode.resolveSecret(&again, logger: logger)
        #expect(again.jwtSecret == generated)
    }

    @Test func aCommandThatReadsOnlyTheSecretIsNotStoppedByRulesBetweenOtherKeys() throws {
        let environment = ["PRESENCE_NATS_REPLICAS": "3", "JWT_SECRET": "s"]
        #expect(throws: ConfigurationError.self) { try NodeConfiguration.load(file: nil, environment: environment, flags: [:]) }
        let configuration = try NodeConfiguration.load(
            file: nil, environment: environment, flags: [:], checkingKeysTogether: false)
        #expect(configuration.jwtSecret == "s" && configuration.replicas == 3)
    }
}
