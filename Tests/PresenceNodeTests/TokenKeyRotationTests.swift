import Foundation
import Testing

/// Tokens of identity providers (SPEC §4): keys from a JWK Set file or URL chosen by `kid`,
/// rotated by SIGHUP or by the URL changing its keys (found by an unknown kid, or by the
/// refresh every `auth.jwks_refresh` seconds), with tokens minted by PyJWT.
extension HeavyProcessSuites {
    @Suite("Token keys from JWK Sets", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
    struct TokenKeyRotationTests {
        /// Status and error message of a write to `user` with `token`.
        private func write(_ port: Int, token: String, user: String = "alice") async throws -> (Int, String) {
            let (status, json) = try await HTTP.request(
                "PUT", port: port, path: "/api/v2/presence/\(user)", headers: ["Authorization": "Bearer \(token)"],
                body: #"{"status":"online"}"#)
            let message = ((json["error"] as? [String: Any])?["message"] as? String) ?? ""
            return (status, message)
        }

        /// A node whose `auth.jwks_url` is a local server serving `served/jwks.json`, at first
        /// the set of k1 and k2 (``PythonTool/makeKeys(in:)`` in `keys`), fetched every
        /// `refresh` seconds.
        private func nodeFetchingJWKS(refresh: String) async throws
            -> (keys: String, served: String, server: StaticHTTPServer, service: ServiceProcess)
        {
            let keys = TemporaryDirectory.make()
            try PythonTool.makeKeys(in: keys)
            let served = TemporaryDirectory.make()
            try FileManager.default.copyItem(atPath: keys + "/jwks-12.json", toPath: served + "/jwks.json")
            let server = try await StaticHTTPServer(directory: served)
            let service = try ServiceProcess.serve(
                dataDirectory: TemporaryDirectory.make(),
                environment: ServiceProcess.testEnvironment([
                    "PRESENCE_AUTH_JWKS_URL": "http://127.0.0.1:\(server.port)/jwks.json",
                    "PRESENCE_AUTH_JWKS_REFRESH": refresh,
                ]))
            return (keys, served, server, service)
        }

        /// The provider rotates: the set it serves holds k3 only.
        private func rotate(_ served: String, keys: String) throws {
            try FileManager.default.removeItem(atPath: served + "/jwks.json")
            try FileManager.default.copyItem(atPath: keys + "/jwks-3.json", toPath: served + "/jwks.json")
        }

        @Test func aJWKSFileChoosesKeysByKidAndSIGHUPRotatesThemWithoutDroppingAConnection() async throws {
            let keys = TemporaryDirectory.make()
            try PythonTool.makeKeys(in: keys)
            let jwksFile = keys + "/jwks.json"
            try FileManager.default.copyItem(atPath: keys + "/jwks-12.json", toPath: jwksFile)
            let service = try ServiceProcess.serve(
                dataDirectory: TemporaryDirectory.make(),
                environment: ServiceProcess.testEnvironment(["PRESENCE_AUTH_JWKS_FILE": jwksFile]))
            try await service.waitUntilReady()
            let port = service.httpPort

            // Two keys of one set, RSA and EC, each chosen by its kid.
            let k1Token = try PythonTool.token(keys, kid: "k1", subject: "alice")
            #expect(try await write(port, token: k1Token).0 == 200)
            #expect(try await write(port, token: PythonTool.token(keys, kid: "k2", subject: "alice")).0 == 200)
            let (status, message) = try await write(port, token: PythonTool.token(keys, kid: "k3", subject: "alice"))
            #expect(status == 401)
            #expect(message.contains("\"k3\"") && message.contains("not known"), "\(message)")
            // The HS256 secret still works beside the set.
            #expect(try await write(port, token: TestNode.token("alice")).0 == 200)

            // A keep-alive connection opened before the rotation.
            let connection = try #require(RawConnection(port: port))
            let request = "GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n"
            #expect(connection.send(request))
            #expect(connection.readResponse()?.status == 200)

            // Rotation: the file now holds k3 only.
            try FileManager.default.removeItem(atPath: jwksFile)
            try FileManager.default.copyItem(atPath: keys + "/jwks-3.json", toPath: jwksFile)
            service.signal(SIGHUP)
            try await service.waitForOutput("token keys reloaded")
            #expect(try await write(port, token: PythonTool.token(keys, kid: "k3", subject: "alice")).0 == 200)
            // k1's token was verified (and remembered) before: it must not outlive its key.
            #expect(try await write(port, token: k1Token).0 == 401)
            #expect(connection.send(request), "the connection survives SIGHUP")
            #expect(connection.readResponse()?.status == 200)

            // A broken file on SIGHUP changes nothing.
            try "not json".write(toFile: jwksFile, atomically: true, encoding: .utf8)
            service.signal(SIGHUP)
            try await service.waitForOutput("cannot reload the token keys")
            #expect(try await write(port, token: PythonTool.token(keys, kid: "k3", subject: "alice")).0 == 200)

            service.signal(SIGTERM)
            #expect(await service.waitForExit() == 0)
        }

        @Test func aJWKSURLIsFetchedAgainWhenATokenNamesAnUnknownKidAtMostEveryTenSeconds() async throws {
            let (keys, served, server, service) = try await nodeFetchingJWKS(refresh: "3600")
            // Minted before the clock matters: spawning python takes a while on a busy machine.
            let k3Token = try PythonTool.token(keys, kid: "k3", subject: "alice")
            let k2Tokens = try (0..<5).map { _ in try PythonTool.token(keys, kid: "k2", subject: "alice") }
            let k1Token = try PythonTool.token(keys, kid: "k1", subject: "alice")
            try await service.waitUntilReady()
            let port = service.httpPort
            #expect(server.gets(of: "/jwks.json") == 1, "fetched at start")
            #expect(try await write(port, token: k1Token).0 == 200)

            // The provider rotates: k3 replaces k1 and k2. The first k3 token fetches the set at once.
            try rotate(served, keys: keys)
            #expect(try await write(port, token: k3Token).0 == 200)
            #expect(server.gets(of: "/jwks.json") == 2)
            #expect(try await write(port, token: k1Token).0 == 401)

            // More unknown kids within ten seconds do not make the node fetch again.
            for token in k2Tokens {
                #expect(try await write(port, token: token).0 == 401)
            }
            #expect(server.gets(of: "/jwks.json") == 2, "an unknown kid fetches at most once per 10 s")
            withExtendedLifetime(server) {}

            service.signal(SIGTERM)
            #expect(await service.waitForExit() == 0)
        }

        @Test func aJWKSURLIsFetchedAgainEveryRefreshIntervalWithoutATokenAskingForIt() async throws {
            let (keys, served, server, service) = try await nodeFetchingJWKS(refresh: "1")
            let k3Token = try PythonTool.token(keys, kid: "k3", subject: "alice")
            let k1Token = try PythonTool.token(keys, kid: "k1", subject: "alice")
            try await service.waitUntilReady()
            let port = service.httpPort
            #expect(try await write(port, token: k1Token).0 == 200)
            // k3 is not served yet: a token naming it fetches the set (or joins the fetch in
            // flight), which does not bring it, and another unknown kid may not for ten seconds.
            #expect(try await write(port, token: k3Token).0 == 401)

            // The provider rotates: k3 replaces k1 and k2. No token asks for a fetch meanwhile,
            // yet the node fetches the set again every second: twice, so that one surely began
            // after the rotation.
            try rotate(served, keys: keys)
            let rotated = server.gets(of: "/jwks.json")
            let deadline = ContinuousClock.now + .seconds(10).scaled
            while server.gets(of: "/jwks.json") < rotated + 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(server.gets(of: "/jwks.json") >= rotated + 2, "fetched again after auth.jwks_refresh (1 s)")
            #expect(try await write(port, token: k3Token).0 == 200, "the refreshed set has k3")
            #expect(try await write(port, token: k1Token).0 == 401, "and no longer k1")
            withExtendedLifetime(server) {}

            service.signal(SIGTERM)
            #expect(await service.waitForExit() == 0)
        }
    }
}
