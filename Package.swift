// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "swift-presence",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "presence", targets: ["presence"]),
        .executable(name: "presence-bench", targets: ["PresenceBench"]),
        .executable(name: "bench-baseline-server", targets: ["BenchBaselineServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // bcrypt (OpenBSD's C implementation) for the passwords in the generated nats-server.conf.
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Traces (off unless tracing.otlp_endpoint is set): the API, and swift-otel's OTLP/HTTP
        // exporter only (its default OTLPGRPC trait costs minutes of build for nothing we use).
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", exact: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // Pure domain: records, validation, key encoding, expiry, the in-memory replica. No I/O.
        // Locks everywhere are NIOConcurrencyHelpers' (pthread mutexes): ThreadSanitizer sees
        // them, while Synchronization's Mutex on Linux (a bare futex) looks to it like no lock.
        .target(
            name: "PresenceCore",
            dependencies: [
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Debian's libnats-dev (nats.c 3.4.1), seen through pkg-config.
        .systemLibrary(
            name: "CNATS",
            pkgConfig: "libnats",
            providers: [.apt(["libnats-dev"]), .brew(["cnats"])]
        ),
        // The only place that calls nats.c; its public API has Swift types only and is async
        // (blocking nats.c calls run on its own thread pool).
        .target(
            name: "NATSClient",
            dependencies: ["CNATS", .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        // Writes the nats-server config, starts, watches, restarts and stops nats-server.
        .target(
            name: "EmbeddedNATS",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ],
            swiftSettings: swiftSettings
        ),
        // The presence store on NATS JetStream KV: bucket, CAS writes, watcher-fed replica.
        .target(
            name: "PresenceStore",
            dependencies: [
                "PresenceCore", "NATSClient", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // Bearer tokens: the verifier and its keys (secret, PEM, JWK Sets by kid), the JWK Set
        // URL's fetcher and reloader, the issuer of HS256 tokens. No HTTP server, no NATS.
        .target(
            name: "PresenceAuth",
            dependencies: [
                "PresenceCore", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // The REST API on Hummingbird: routes, JWT auth, limits. Generic over PresenceRepository.
        .target(
            name: "PresenceHTTP",
            dependencies: [
                "PresenceCore", "PresenceAuth", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.embedInCode("openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        // Configuration and wiring of a whole node: supervisor, store, HTTP, services.
        .target(
            name: "PresenceNode",
            dependencies: [
                "PresenceCore", "PresenceAuth", "PresenceStore", "PresenceHTTP", "EmbeddedNATS", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            swiftSettings: swiftSettings
        ),
        // The thin command line: presence serve / token.
        .executableTarget(
            name: "presence",
            dependencies: [
                "PresenceNode", "PresenceAuth", "PresenceHTTP", "PresenceCore", "EmbeddedNATS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmark helpers for bench/run: seeding, the write ceiling, propagation, fan-out, open-loop heartbeats,
        // connected sockets (bench/websocket).
        .executableTarget(
            name: "PresenceBench",
            dependencies: [
                "PresenceCore", "PresenceAuth", "NATSClient", "EmbeddedNATS", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The framework ceiling for bench/run: a bare Hummingbird route answering from a dictionary.
        .executableTarget(
            name: "BenchBaselineServer",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: swiftSettings
        ),
        // What more than one test target needs (a test target cannot depend on another).
        .target(
            name: "PresenceTestSupport",
            dependencies: [
                "PresenceCore", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/Support/PresenceTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PresenceCoreTests",
            dependencies: ["PresenceCore", "PresenceTestSupport", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PresenceAuthTests",
            dependencies: [
                "PresenceAuth", "PresenceCore", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EmbeddedNATSTests",
            dependencies: ["EmbeddedNATS"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PresenceStoreTests",
            dependencies: ["PresenceStore", "PresenceCore", "NATSClient"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PresenceHTTPTests",
            dependencies: [
                "PresenceHTTP", "PresenceAuth", "PresenceCore", "PresenceTestSupport",
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PresenceNodeTests",
            dependencies: [
                "PresenceNode", "PresenceTestSupport", "PresenceAuth", "PresenceStore", "PresenceCore", "PresenceHTTP", "EmbeddedNATS", "NATSClient",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
