import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PresenceTestSupport
import Testing

/// HTTPS (`service.http.tls`, SPEC §7): served with a certificate made by openssl, checked by
/// curl and by a Swift client (swift-nio-ssl) that trust only the test CA, and replaced on
/// SIGHUP without a restart.
extension HeavyProcessSuites {
    @Suite("HTTPS", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
    struct HTTPSTests {
        private func curl(_ arguments: String, in directory: String) throws -> String {
            try Shell.run("curl -s --max-time 5 \(arguments); true", in: directory)
        }

        /// Waits until `/health/ready` answers 200 over HTTPS.
        private func waitUntilReady(_ service: ServiceProcess, certificates: String) async throws {
            let deadline = ContinuousClock.now + .seconds(20).scaled
            while ContinuousClock.now < deadline, service.process.isRunning {
                let port = service.httpPort
                if port != 0,
                    try curl("-o /dev/null -w '%{http_code}' --cacert ca.pem https://localhost:\(port)/health/ready", in: certificates)
                        == "200"
                {
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("the HTTPS node did not become ready: \(service.output.suffix(3000))")
            throw CancellationError()
        }

        /// The subject of the certificate the server at `port` presents now.
        private func presentedSubject(_ port: Int, in directory: String) throws -> String {
            try Shell.run(
                "openssl s_client -connect 127.0.0.1:\(port) -servername localhost < /dev/null 2>/dev/null | openssl x509 -noout -subject",
                in: directory)
        }

        @Test func servesHTTPSToCurlAndASwiftClientAndTakesANewCertificateOnSIGHUP() async throws {
            let certificates = TemporaryDirectory.make()
            try HTTPSCertificates.makeAuthority(in: certificates)
            try HTTPSCertificates.makeServerCertificate("presence-one", in: certificates)
            try HTTPSCertificates.makeServerCertificate("presence-two", in: certificates)
            try Shell.run("cp presence-one.pem server.pem && cp presence-one.key server.key", in: certificates)
            let service = try ServiceProcess.serve(
                dataDirectory: TemporaryDirectory.make(),
                environment: ServiceProcess.testEnvironment([
                    "PRESENCE_SERVICE_HTTP_TLS_CERT_FILE": certificates + "/server.pem",
                    "PRESENCE_SERVICE_HTTP_TLS_KEY_FILE": certificates + "/server.key",
                ]))
            try await waitUntilReady(service, certificates: certificates)
            let port = service.httpPort
            #expect(service.output.contains("scheme=https"))

            // curl: a write and a read over HTTPS, trusting only the test CA.
            let token = try await TestNode.token("alice")
            let written = try curl(
                "-o /dev/null -w '%{http_code}' --cacert ca.pem -X PUT -H 'Authorization: Bearer \(token)' "
                    + "-H 'Content-Type: application/json' -d '{\"status\":\"busy\"}' https://localhost:\(port)/api/v2/presence/alice",
                in: certificates)
            #expect(written == "200")
            let read = try curl("--cacert ca.pem https://localhost:\(port)/api/v2/presence/alice", in: certificates)
            #expect(read.contains(#""status":"busy""#), "\(read)")
            // Without the CA curl refuses the certificate; plain HTTP gets no answer.
            #expect(try curl("-o /dev/null -w '%{http_code}' https://localhost:\(port)/health/live", in: certificates) == "000")
            #expect(try curl("-o /dev/null -w '%{http_code}' http://localhost:\(port)/health/live", in: certificates) != "200")

            // A Swift client (swift-nio-ssl, full verification of localhost).
            let response = try await SwiftTLSClient.get(
                "/health/live", port: port, trusting: certificates + "/ca.pem", hostname: "localhost")
            #expect(response.hasPrefix("HTTP/1.1 200"), "\(response.prefix(200))")

            // Renewal: new files, SIGHUP, new connections get the new certificate.
            #expect(try presentedSubject(port, in: certificates).contains("presence-one"))
            try Shell.run("cp presence-two.pem server.pem && cp presence-two.key server.key", in: certificates)
            service.signal(SIGHUP)
            try await service.waitForOutput("HTTPS certificate reloaded")
            #expect(try presentedSubject(port, in: certificates).contains("presence-two"))
            // A key that does not match on SIGHUP changes nothing.
            try Shell.run("cp presence-one.key server.key", in: certificates)
            service.signal(SIGHUP)
            try await service.waitForOutput("cannot reload the HTTPS certificate")
            #expect(try presentedSubject(port, in: certificates).contains("presence-two"))

            service.signal(SIGTERM)
            #expect(await service.waitForExit() == 0)
        }

        @Test func aSocketOverHTTPSIsASecureWebSocket() async throws {
            let certificates = TemporaryDirectory.make()
            try HTTPSCertificates.makeAuthority(in: certificates)
            try HTTPSCertificates.makeServerCertificate("presence-one", in: certificates)
            let service = try ServiceProcess.serve(
                dataDirectory: TemporaryDirectory.make(),
                environment: ServiceProcess.testEnvironment([
                    "PRESENCE_SERVICE_HTTP_TLS_CERT_FILE": certificates + "/presence-one.pem",
                    "PRESENCE_SERVICE_HTTP_TLS_KEY_FILE": certificates + "/presence-one.key",
                ]))
            try await waitUntilReady(service, certificates: certificates)
            let socket = try await TestSocket.connect(
                port: service.httpPort, tls: (caFile: certificates + "/ca.pem", hostname: "localhost"))
            let welcome = try #require(try await socket.hello(token: try await TestNode.token("alice")))
            #expect((welcome["presence"] as? [String: Any])?["status"] as? String == "online")
            try await socket.close()
            #expect(try await socket.closed().code == 1000)
        }

        @Test func aCertificateWithoutItsKeyStopsStartUpNamingTheKeys() async throws {
            let service = try ServiceProcess.serve(
                dataDirectory: TemporaryDirectory.make(),
                environment: ServiceProcess.testEnvironment(["PRESENCE_SERVICE_HTTP_TLS_CERT_FILE": "/nonexistent.pem"]))
            #expect(await service.waitForExit() == 2)
            #expect(service.output.contains("'service.http.tls.cert_file' and 'service.http.tls.key_file' must be set together"))
        }
    }
}

/// One HTTPS GET over swift-nio-ssl, trusting only the CA in `trusting`.
enum SwiftTLSClient {
    /// Collects what the server sends until it closes.
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let done: EventLoopPromise<String>
        private let received = NIOLockedValueBox("")

        init(done: EventLoopPromise<String>) { self.done = done }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLockedValue { $0 += String(buffer: buffer) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.succeed(received.withLockedValue { $0 })
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            done.fail(error)
            context.close(promise: nil)
        }
    }

    static func get(_ path: String, port: Int, trusting caFile: String, hostname: String) async throws -> String {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(caFile)
        configuration.certificateVerification = .fullVerification
        let context = try NIOSSLContext(configuration: configuration)
        let group = MultiThreadedEventLoopGroup.singleton
        let done = group.any().makePromise(of: String.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: hostname))
                    try channel.pipeline.syncOperations.addHandler(Collector(done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let request = "GET \(path) HTTP/1.1\r\nHost: \(hostname)\r\nConnection: close\r\n\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        return try await done.futureResult.get()
    }
}
