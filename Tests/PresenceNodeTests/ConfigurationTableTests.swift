import EmbeddedNATS
import Foundation
import PresenceHTTP
import Testing

@testable import PresenceNode

/// The configuration table (``ConfigurationKeys``) is the one place a key is declared: these
/// tests fail when the reading, the environment names, the flags or the documents drift from it.
@Suite(.temporaryFiles)
struct ConfigurationTableTests {
    /// A valid value other than the default for every key, as text.
    private static let samples: [String: String] = [
        "service.node_id": "sample-node", "service.role": "leaf", "service.http.host": "127.0.0.1",
        "service.http.port": "9000", "service.http.header_timeout": "2.5", "service.http.idle_timeout": "30",
        "service.http.max_connections": "5000", "service.http.tls.cert_file": "server.pem",
        "service.http.tls.key_file": "server.key",
        "service.http.cors.allowed_origins": "https://app.example.com",
        "service.ws.ping_interval": "7", "service.ws.pong_timeout": "3", "service.ws.auth_timeout": "2",
        "service.ws.max_connections": "50", "service.ws.max_subscriptions": "9",
        "nats.embedded": "false", "nats.server_binary": "/opt/nats-server", "nats.data_dir": "/tmp/sample",
        "nats.client_port": "4333", "nats.leafnode_port": "7433", "nats.leafnode_host": "127.0.0.2",
        "nats.monitor_port": "8222", "nats.hub_urls": "nats-leaf://a:7422,nats-leaf://b:7422",
        "nats.url": "nats://n:4222", "nats.max_store": "10737418240", "nats.replicas": "3", "nats.user": "u", "nats.password": "p", "nats.token": "t",
        "nats.leaf_user": "lu", "nats.leaf_password": "lp", "nats.leaf_credentials": "l2:p2,l3:p3",
        "nats.leaf_tls.cert_file": "c.pem",
        "nats.leaf_tls.key_file": "k.pem", "nats.leaf_tls.ca_file": "ca.pem", "nats.cluster.name": "east",
        "nats.cluster.host": "127.0.0.3", "nats.cluster.port": "6222",
        "nats.cluster.routes": "nats-route://c1:6222,nats-route://c2:6222", "nats.route_user": "ru",
        "nats.route_password": "rp", "nats.route_tls.cert_file": "rc.pem", "nats.route_tls.key_file": "rk.pem",
        "nats.route_tls.ca_file": "rca.pem", "cache.max_cost": "2097152",
        "cache.num_counters": "5", "cache.negative_ttl": "0", "presence.default_ttl": "60",
        "presence.max_sessions": "4", "presence.durable_heartbeats": "true", "presence.reconnect_grace": "2", "presence.write_failover_wait": "9", "presence.retention": "600", "presence.sweep_interval": "0.5", "presence.sweep_batch": "10",
        "audit.enabled": "false", "audit.retention": "86400", "audit.invisible_messages": "true",
        "stream.max_streams": "5", "stream.queue_size": "8", "stream.keepalive": "1",
        "stream.max_buffered_bytes": "65536", "stream.max_total_buffered_bytes": "1048576",
        "auth.jwt_secret": "s", "auth.public_key_file": "key.pem", "auth.jwks_file": "jwks.json",
        "auth.jwks_url": "https://idp.example.com/.well-known/jwks.json", "auth.jwks_refresh": "60", "auth.issuer": "iss", "auth.audience": "aud",
        "auth.public_reads": "no", "auth.leeway": "0", "rate_limit.writes_per_second": "0.5",
        "rate_limit.write_burst": "1", "rate_limit.reads_per_second": "3", "rate_limit.read_burst": "7",
        "tracing.otlp_endpoint": "http://collector:4318", "tracing.otlp_protocol": "http/json", "tracing.sample_ratio": "0.01", "tracing.service_name": "presence-eu",
        "log_level": "WARN", "log_format": "json",
    ]
    /// Keys that cannot be set alone (a rule involves another key), and what they need.
    private static let companions: [String: [String]] = [
        "service.role": ["nats.hub_urls"], "nats.leaf_tls.cert_file": ["nats.leaf_tls.key_file"],
        "service.http.tls.cert_file": ["service.http.tls.key_file"], "service.http.tls.key_file": ["service.http.tls.cert_file"],
        "nats.leaf_tls.key_file": ["nats.leaf_tls.cert_file"],
        "nats.leaf_tls.ca_file": ["nats.leaf_tls.cert_file", "nats.leaf_tls.key_file"],
        "nats.replicas": ["nats.cluster.port"], "nats.cluster.port": ["nats.replicas"],
        "nats.route_user": ["nats.route_password"], "nats.route_password": ["nats.route_user"],
        "nats.route_tls.cert_file": ["nats.route_tls.key_file"], "nats.route_tls.key_file": ["nats.route_tls.cert_file"],
        "nats.route_tls.ca_file": ["nats.route_tls.cert_file", "nats.route_tls.key_file"],
    ]

    @Test func everyKeyHasASampleAndEveryPropertyIsAKey() {
        #expect(Set(Self.samples.keys) == Set(ConfigurationKeys.all.map(\.path)))
        #expect(ConfigurationKeys.byPath.count == ConfigurationKeys.all.count, "each path once")
        let properties = Mirror(reflecting: NodeConfiguration()).children.compactMap(\.label)
            .filter { !["developmentMode", "ignoredEnvironmentVariables"].contains($0) }
        #expect(properties.count == ConfigurationKeys.all.count, "every stored property of NodeConfiguration is a key")
    }

    /// Through `EnvironmentVariablesProvider`, so this also holds the derived `PRESENCE_*` names
    /// equal to the library's encoding of the keys.
    @Test(arguments: ConfigurationKeys.all.map(\.path))
    func eachKeySetsItsOwnPropertyFromTheEnvironment(path: String) throws {
        let key = try #require(ConfigurationKeys.byPath[path])
        let sample = try #require(Self.samples[path])
        var environment = [ConfigurationKeys.environmentName(of: path): sample]
        let together = Self.companions[path] ?? []
        for other in together {
            environment[ConfigurationKeys.environmentName(of: other)] = Self.samples[other]
        }
        let configuration = try NodeConfiguration.load(file: nil, environment: environment, flags: [:])
        #expect(!key.isDefault(in: configuration), "\(path) from \(environment) is not read")
        #expect(configuration.ignoredEnvironmentVariables.isEmpty)
        for other in ConfigurationKeys.all where other.path != path && !together.contains(other.path) {
            #expect(other.isDefault(in: configuration), "setting \(path) changed \(other.path)")
        }
    }

    @Test func defaultsAreTheTables() throws {
        let loaded = try NodeConfiguration.load(file: nil, environment: [:], flags: [:])
        for key in ConfigurationKeys.all {
            #expect(key.isDefault(in: loaded), "\(key.path)")
            #expect(key.isDefault(in: NodeConfiguration()), "\(key.path)")
        }
    }

    /// The documented defaults (SPEC §7), written out: a default changed in the table by
    /// mistake fails here, where the tests above only compare the table with itself.
    @Test func theDocumentedDefaultsHold() throws {
        let loaded = try NodeConfiguration.load(file: nil, environment: [:], flags: [:])
        #expect(loaded.role == .center)
        #expect(loaded.httpHost == "0.0.0.0" && loaded.httpPort == 8080)
        #expect(loaded.httpHeaderTimeout == 10 && loaded.httpIdleTimeout == 60)
        #expect(loaded.natsEmbedded && loaded.dataDirectory == "./data")
        #expect(loaded.natsClientPort == 4222 && loaded.natsLeafnodePort == 7422)
        #expect(loaded.natsLeafnodeHost == "127.0.0.1" && loaded.replicas == 1)
        #expect(loaded.cacheMaxCost == 67_108_864 && loaded.cacheNumCounters == 1_000_000 && loaded.cacheNegativeTTL == 5)
        #expect(loaded.defaultTTL == 300 && loaded.retention == 2_592_000)
        #expect(loaded.sweepInterval == 1 && loaded.sweepBatch == 1000)
        #expect(loaded.maxStreams == 10_000 && loaded.streamQueueSize == 256 && loaded.streamKeepalive == 15)
        #expect(loaded.streamMaxBufferedBytes == 262_144 && loaded.streamMaxTotalBufferedBytes == 67_108_864)
        #expect(loaded.publicReads && loaded.leewaySeconds == 5 && loaded.jwtSecret == nil)
        #expect(loaded.writesPerSecond == 10 && loaded.writeBurst == 20)
        #expect(loaded.readsPerSecond == 0 && loaded.readBurst == 100)
        #expect(loaded.logLevel == .info && loaded.logFormat == .logfmt)
    }

    @Test func aRefusedValueNamesTheKeyAndItsSource() throws {
        let path = TemporaryDirectory.make() + "/presence.yaml"
        try "stream:\n  queue_size: 0\n".write(toFile: path, atomically: true, encoding: .utf8)
        let cases: [(file: String?, environment: [String: String], flags: [String: String], message: String)] = [
            (path, [:], [:], "invalid value for 'stream.queue_size' (\(path)): 0 is outside 1…1000000"),
            (nil, ["PRESENCE_STREAM_QUEUE_SIZE": "many"], [:], "invalid value for 'stream.queue_size' (environment variable PRESENCE_STREAM_QUEUE_SIZE): 'many' is not an integer"),
            (path, ["PRESENCE_STREAM_QUEUE_SIZE": "5"], ["stream.queue_size": "-3"], "invalid value for 'stream.queue_size' (command line): -3 is outside 1…1000000"),
            (nil, ["PRESENCE_NATS_EMBEDDED": "maybe"], [:], "invalid value for 'nats.embedded' (environment variable PRESENCE_NATS_EMBEDDED): 'maybe' is not true or false"),
            (nil, ["PRESENCE_SERVICE_ROLE": "hub"], [:], "invalid value for 'service.role' (environment variable PRESENCE_SERVICE_ROLE): 'hub' (expected center or leaf)"),
            (nil, [:], ["log_level": "loud"], "invalid value for 'log_level' (command line): 'loud' (expected debug, info, warn or error)"),
            (nil, ["PRESENCE_RATE_LIMIT_WRITES_PER_SECOND": "inf"], [:], "invalid value for 'rate_limit.writes_per_second' (environment variable PRESENCE_RATE_LIMIT_WRITES_PER_SECOND): 'inf' is not a number"),
            (nil, [:], ["service.http.prot": "1"], "unknown configuration key 'service.http.prot' (command line)"),
        ]
        for (file, environment, flags, message) in cases {
            let error = #expect(throws: ConfigurationError.self) {
                try NodeConfiguration.load(file: file, environment: environment, flags: flags)
            }
            #expect(error?.description == message)
        }
        #expect(try NodeConfiguration.load(file: path, environment: ["PRESENCE_STREAM_QUEUE_SIZE": "5"], flags: [:]).streamQueueSize == 5)
    }

    @Test func emptyAndNullFileValuesAreNoValue() throws {
        let path = TemporaryDirectory.make() + "/presence.yaml"
        try "service:\n  node_id: ${UNSET_NODE}\n  http:\n    port:\n    host: ~\nnats:\n  hub_urls: nats-leaf://a:7422, nats-leaf://b:7422\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try NodeConfiguration.load(file: path, environment: [:], flags: [:])
        #expect(configuration.nodeID == NodeConfiguration().nodeID)
        #expect(configuration.httpPort == 8080)
        #expect(configuration.httpHost == "0.0.0.0")
        #expect(configuration.hubURLs == ["nats-leaf://a:7422", "nats-leaf://b:7422"], "a scalar is a comma list")
        let fromEnvironment = try NodeConfiguration.load(
            file: nil, environment: ["PRESENCE_NATS_HUB_URLS": "nats-leaf://a:7422,, nats-leaf://b:7422 "], flags: [:])
        #expect(fromEnvironment.hubURLs == ["nats-leaf://a:7422", "nats-leaf://b:7422"], "empty items dropped")
    }

    @Test func theDocumentedKeyTableIsTheTable() throws {
        let path = ConfigurationDocuments.tablePath
        let url = ConfigurationDocuments.root.appendingPathComponent(path)
        let document = try String(contentsOf: url, encoding: .utf8)
        let section = try #require(ConfigurationDocuments.tableSection(of: document), "\(path) lacks the key table markers")
        let expected = ConfigurationDocuments.keyTable
        if ConfigurationDocuments.updating, section != expected {
            try document.replacingOccurrences(of: section, with: expected).write(to: url, atomically: true, encoding: .utf8)
            return
        }
        #expect(section == expected, "\(path)'s key table drifted; expected:\n\(expected)")
        for flag in NodeConfiguration.flagKeys.keys {
            #expect(document.contains("[--\(flag) "), "\(path)'s command line lacks --\(flag)")
        }
    }

    @Test func theStandaloneExampleIsTheTable() throws {
        let url = ConfigurationDocuments.root.appendingPathComponent("config/standalone.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let expected = ConfigurationDocuments.referenceYAML
        if ConfigurationDocuments.updating, text != expected {
            try expected.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        #expect(text == expected, "config/standalone.yaml drifted; expected:\n\(expected)")
    }

    @Test func versionIsTheServicesOne() throws {
        let process = Process()
        process.executableURL = ServiceProcess.executable
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output == ServiceVersion.current + "\n")
    }

    @Test func serveOffersExactlyTheTablesFlags() throws {
        let process = Process()
        process.executableURL = ServiceProcess.executable
        process.arguments = ["serve", "--help"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let help = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let options = Set(
            help.split(whereSeparator: \.isWhitespace).filter { $0.hasPrefix("--") }
                .map { String($0.dropFirst(2).prefix { $0.isLetter || $0 == "-" }) })
        let expected = Set(NodeConfiguration.flagKeys.keys).union(["config", "dev", "help", "version"])
        #expect(options == expected)
        for (flag, path) in NodeConfiguration.flagKeys {
            #expect(NodeConfiguration.flagHelp(flag).contains(path))
            #expect(help.contains(path), "--\(flag)'s help names \(path)")
        }
    }

    @Test func subConfigurationsTakeTheTablesDefaults() {
        let defaults = NodeConfiguration()
        #expect(HTTPServerSettings(defaults).headerTimeout == .seconds(ConfigurationKeys.httpHeaderTimeout.defaultValue))
        #expect(HTTPServerSettings(defaults).idleTimeout == .seconds(ConfigurationKeys.httpIdleTimeout.defaultValue))
        let embedded = EmbeddedNATSConfiguration(defaults)
        #expect(embedded.clientPort == ConfigurationKeys.natsClientPort.defaultValue)
        #expect(embedded.leafnodeHost == ConfigurationKeys.natsLeafnodeHost.defaultValue)
        var expected = EmbeddedNATSConfiguration(serverName: defaults.nodeID, dataDirectory: defaults.dataDirectory, mode: .center(leafnodePort: 7422))
        expected.heartbeatSubject = "presence.heartbeats.presence"
        // The tests' own binary (TestNATSServer) aside, the table's: `auto`.
        expected.serverBinary = ConfigurationKeys.natsServerBinary.defaultValue
        #expect(embedded.serverBinary == "auto")
        #expect(embedded == expected)
    }
}
