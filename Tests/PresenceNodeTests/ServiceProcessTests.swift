import Foundation
import PresenceAuth
import PresenceHTTP
import PresenceNode
import Testing

/// The `presence` executable as an operator runs it: start-up checks, graceful shutdown,
/// no orphan nats-server, durability of acknowledged writes across SIGKILL.
@Suite("presence serve as a process", .serialized, .temporaryFiles, .timeLimit(.minutes(5)))
struct ServiceProcessTests {
    @Test func refusesToStartWithoutASecret() async throws {
        let directory = TemporaryDirectory.make()
        let service = try ServiceProcess.serve(dataDirectory: directory, environment: [:])
        let status = await service.waitForExit()
        #expect(status != nil && status != 0)
        #expect(service.output.contains("JWT_SECRET"))
        #expect(service.output.contains("auth.jwt_secret"))
        #expect(service.natsServerPID == nil, "no nats-server was started")
    }

    @Test func unknownConfigurationKeyStopsStartUpNamingTheKey() async throws {
        let directory = TemporaryDirectory.make()
        let file = directory + "/presence.yaml"
        try "service:\n  htpp:\n    port: 1\n".write(toFile: file, atomically: true, encoding: .utf8)
        let service = try ServiceProcess.serve(dataDirectory: directory, extraArguments: ["--config", file])
        let status = await service.waitForExit()
        #expect(status != nil && status != 0)
        #expect(service.output.contains("service.htpp.port"))
    }

    @Test func oversizedChunkedBodiesAre413() async throws {
        let directory = TemporaryDirectory.make()
        let service = try ServiceProcess.serve(dataDirectory: directory)
        try await service.waitUntilReady()
        let token = try await TestNode.token("sam")
        let body = #"{"status":"online","message":"\#(String(repeating: "x", count: 5000))"}"#
        let request =
            "PUT /api/v2/presence/sam HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n0\r\n\r\n"
        let response = try RawHTTP.send(request, port: service.httpPort)
        #expect(response.hasPrefix("HTTP/1.1 413"), "\(response.prefix(200))")
        #expect(response.contains("payload_too_large"))
        service.signal(SIGTERM)
        #expect(await service.waitForExit() == 0)
    }

    @Test func gracefulShutdownOnSIGTERMLeavesNoNATSServer() async throws {
        let directory = TemporaryDirectory.make()
        let service = try ServiceProcess.serve(dataDirectory: directory)
        try await service.waitUntilReady()
        let natsPID = try #require(service.natsServerPID)
        #expect(!processIsGone(natsPID))
        service.signal(SIGTERM)
        let status = await service.waitForExit(timeout: .seconds(10))
        #expect(status == 0)
        #expect(await waitUntilGone(natsPID))
    }

    @Test func killingTheServiceKillsItsNATSServerAndARestartWorks() async throws {
        let directory = TemporaryDirectory.make()
        let env = ServiceProcess.testEnvironment()
        let first = try ServiceProcess.serve(dataDirectory: directory, environment: env)
        try await first.waitUntilReady()
        let natsPID = try #require(first.natsServerPID)
        first.signal(SIGKILL)
        _ = await first.waitForExit()
        #expect(await waitUntilGone(natsPID), "nats-server must die with the service")

        let second = try ServiceProcess.serve(dataDirectory: directory, environment: env)
        try await second.waitUntilReady()
        #expect(second.natsServerPID != natsPID)
        second.signal(SIGINT)
        #expect(await second.waitForExit() == 0)
    }

    @Test func acknowledgedWritesSurviveSIGKILLOfTheWholeNode() async throws {
        let directory = TemporaryDirectory.make()
        let env = ServiceProcess.testEnvironment(["PRESENCE_RATE_LIMIT_WRITE_BURST": "100"])
        let first = try ServiceProcess.serve(dataDirectory: directory, environment: env)
        try await first.waitUntilReady()
        let port = first.httpPort
        let admin = try await TestNode.token("root", scopes: ["presence:admin"])
        var acknowledged: [String: Int] = [:]
        for index in 0..<50 {
            let (status, body) = try await HTTP.request(
                "PUT", port: port, path: "/api/v2/presence/user\(index)", headers: ["Authorization": "Bearer \(admin)"],
                body: #"{"status":"busy","message":"write \#(index)"}"#)
            #expect(status == 200)
            acknowledged["user\(index)"] = body["revision"] as? Int
            // A heartbeat between status writes (SPEC §3a: not stored) takes nothing away from them.
            let (beat, _) = try await HTTP.request(
                "POST", port: port, path: "/api/v2/presence/user\(index)/heartbeat", headers: ["Authorization": "Bearer \(admin)"])
            #expect(beat == 200)
        }
        // Kill the service and its nats-server at once, with no chance to flush anything.
        let natsPID = try #require(first.natsServerPID)
        kill(natsPID, SIGKILL)
        first.signal(SIGKILL)
        _ = await first.waitForExit()
        #expect(await waitUntilGone(natsPID))

        let second = try ServiceProcess.serve(dataDirectory: directory, environment: env)
        try await second.waitUntilReady()
        for (user, revision) in acknowledged {
            let (status, body) = try await HTTP.request("GET", port: second.httpPort, path: "/api/v2/presence/\(user)")
            #expect(status == 200, "\(user) lost")
            #expect(body["revision"] as? Int == revision)
            #expect(body["message"] as? String == "write \(user.dropFirst(4))")
        }
        second.signal(SIGTERM)
        #expect(await second.waitForExit() == 0)
    }

    @Test func aDeadNATSServerIsRestartedAndWritesResume() async throws {
        let directory = TemporaryDirectory.make()
        let service = try ServiceProcess.serve(dataDirectory: directory)
        try await service.waitUntilReady()
        let token = try await TestNode.token("rex")
        let natsPID = try #require(service.natsServerPID)
        kill(natsPID, SIGKILL)
        #expect(await waitUntilGone(natsPID))
        // The supervisor restarts nats-server; the client reconnects; writes work again.
        let deadline = ContinuousClock.now + .seconds(20)
        var status = 0
        while ContinuousClock.now < deadline {
            status = (try? await HTTP.request(
                "PUT", port: service.httpPort, path: "/api/v2/presence/rex", headers: ["Authorization": "Bearer \(token)"],
                body: #"{"status":"online"}"#).0) ?? 0
            if status == 200 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == 200)
        #expect(service.natsServerPID != natsPID)
        try await service.waitUntilReady()
        service.signal(SIGTERM)
        #expect(await service.waitForExit() == 0)
    }

    @Test func devModeKeepsItsSecretAndTheTokenCommandFindsIt() async throws {
        let directory = TemporaryDirectory.make()
        let env = ServiceProcess.testEnvironment().filter { $0.key != "JWT_SECRET" }
        let service = try ServiceProcess.serve(dataDirectory: directory, extraArguments: ["--dev"], environment: env)
        try await service.waitUntilReady()
        let port = service.httpPort
        let secretFile = DevelopmentSecret.path(dataDirectory: directory)
        let attributes = try FileManager.default.attributesOfItem(atPath: secretFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let secret = try #require(DevelopmentSecret.read(dataDirectory: directory))

        let tokenRun = try ServiceProcess(
            arguments: ["token", "--sub", "dev-user", "--data-dir", directory], environment: [:], dataDirectory: directory,
            httpPort: 0)
        #expect(await tokenRun.waitForExit() == 0)
        let token = tokenRun.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!token.contains("\n") && token.split(separator: ".").count == 3)
        let (status, _) = try await HTTP.request(
            "PUT", port: port, path: "/api/v2/presence/dev-user", headers: ["Authorization": "Bearer \(token)"],
            body: #"{"status":"online"}"#)
        #expect(status == 200)
        service.signal(SIGTERM)
        #expect(await service.waitForExit() == 0)

        // The environment of a clustered center (replicas without the cluster flags, which
        // `serve` refuses) does not stop the token command, which needs only the secret.
        let clusteredEnvironment = try ServiceProcess(
            arguments: ["token", "--sub", "dev-user", "--data-dir", directory],
            environment: ["PRESENCE_NATS_REPLICAS": "3"], dataDirectory: directory, httpPort: 0)
        #expect(await clusteredEnvironment.waitForExit() == 0, "\(clusteredEnvironment.output)")
        #expect(clusteredEnvironment.output.split(separator: ".").count == 3)

        let again = try ServiceProcess.serve(dataDirectory: directory, extraArguments: ["--dev"], environment: env)
        try await again.waitUntilReady()
        #expect(DevelopmentSecret.read(dataDirectory: directory) == secret, "the dev secret is reused on restart")
        again.signal(SIGTERM)
        #expect(await again.waitForExit() == 0)
    }
}

@Suite("presence serve with open streams", .serialized, .temporaryFiles, .timeLimit(.minutes(2)))
struct ServiceProcessStreamTests {
    @Test func gracefulShutdownEndsOpenStreams() async throws {
        let directory = TemporaryDirectory.make()
        let service = try ServiceProcess.serve(dataDirectory: directory)
        try await service.waitUntilReady()
        let stream = try SSEClient(port: service.httpPort, path: "/api/v2/presence/stream?users=a,b")
        #expect(await stream.wait { $0.statusLine.hasPrefix("HTTP/1.1 200") })
        service.signal(SIGTERM)
        #expect(await service.waitForExit(timeout: .seconds(10)) == 0)
        #expect(await stream.wait { $0.isClosed })
    }
}
