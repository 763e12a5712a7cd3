import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// A JWK Set provider that hangs, trickles, floods or redirects (issue 23, items 2 and 4):
/// the node still serves HTTP from the start, `/health/ready` says why it is not ready, the
/// file keys follow SIGHUP within a second, the schedule goes on, memory stays bounded and
/// another origin's keys are never used. Real nodes against `Tests/Tools/hostile_jwks.py`.
extension HeavyProcessSuites {
    @Suite("JWK Set providers that misbehave", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
    struct JWKSProviderFailureTests {
        /// Status, error code and message of a write to `alice` with `token`; waits up to 20 s
        /// (an unknown kid waits for the fetch in flight, which may take its whole deadline).
        private func write(_ port: Int, token: String) async throws -> (status: Int, code: String, message: String) {
            var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/api/v2/presence/alice")))
            request.httpMethod = "PUT"
            request.timeoutInterval = 20 * TestTime.scale
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(#"{"status":"online"}"#.utf8)
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            let json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
            let error = json["error"] as? [String: Any]
            return (status, error?["code"] as? String ?? "", error?["message"] as? String ?? "")
        }

        /// How long after `start` the node first answered `/health/live` 200 (nil: not within `timeout`).
        private func firstLiveAnswer(_ service: ServiceProcess, since start: ContinuousClock.Instant, within timeout: Duration)
            async throws -> Duration?
        {
            while ContinuousClock.now - start < timeout, service.process.isRunning {
                let port = service.httpPort
                if port != 0, let (status, _) = try? await HTTP.request("GET", port: port, path: "/health/live"), status == 200 {
                    return ContinuousClock.now - start
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            return nil
        }

        /// The reason of a 503 `/health/ready` once it contains `text` (nil: not within `timeout`).
        private func readyReason(_ service: ServiceProcess, containing text: String, within timeout: Duration) async throws
            -> String?
        {
            let deadline = ContinuousClock.now + timeout
            var last = ""
            while ContinuousClock.now < deadline {
                let (status, json) = try await HTTP.request("GET", port: service.httpPort, path: "/health/ready")
                last = "\(status) \(json)"
                if status == 503, let reason = json["reason"] as? String, reason.contains(text) { return reason }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("/health/ready never named \(text); last: \(last)")
            return nil
        }

        @Test(arguments: [HostileJWKSServer.Mode.silent, .trickle, .huge, .redirect])
        func aMisbehavingProviderHoldsNeitherStartUpNorSIGHUPNorTheSchedule(_ mode: HostileJWKSServer.Mode) async throws {
            let keys = TemporaryDirectory.make()
            try PythonTool.makeKeys(in: keys)
            let jwksFile = keys + "/jwks.json"
            try FileManager.default.copyItem(atPath: keys + "/jwks-12.json", toPath: jwksFile)
            // The redirect's other origin serves k3: its keys must not be used.
            let server = try await HostileJWKSServer(mode, file: keys + "/jwks-3.json")
            let k1Token = try PythonTool.token(keys, kid: "k1", subject: "alice")
            let k3Token = try PythonTool.token(keys, kid: "k3", subject: "alice")
            let spawned = ContinuousClock.now
            let service = try ServiceProcess.serve(
                dataDirectory: TemporaryDirectory.make(),
                environment: ServiceProcess.testEnvironment([
                    "PRESENCE_AUTH_JWKS_FILE": jwksFile, "PRESENCE_AUTH_JWKS_URL": server.url,
                    "PRESENCE_AUTH_JWKS_REFRESH": "2",
                ]))
            let pid = service.process.processIdentifier
            // Read before the huge body comes (3 s after the fetch asks for it), whenever HTTP answers.
            let baselineReading = Task {
                try await Task.sleep(until: spawned + .milliseconds(1500))
                return try ProcessMemory.resident(pid)
            }

            // HTTP from the first second, well before the fetch's 5 s deadline.
            let live = try await firstLiveAnswer(service, since: spawned, within: .seconds(70))
            let baseline = try await baselineReading.value
            print("\(mode): /health/live first answered after \(live.map { "\($0)" } ?? "never (70 s)")")
            #expect(live.map { $0 < .seconds(4).scaled } == true, "first /health/live 200 after \(String(describing: live))")
            guard live != nil else { throw CancellationError() }
            let port = service.httpPort

            let reason = try await readyReason(service, containing: "auth.jwks_url", within: .seconds(20).scaled)
            print("\(mode): /health/ready reason: \(reason ?? "-")")
            #expect(try await write(port, token: k1Token).status == 200, "the file's key works meanwhile")

            switch mode {
            case .huge:
                try await service.waitForOutput("body over 1 MiB")
                let peak = try ProcessMemory.peakResident(pid)
                print("huge: resident \(baseline >> 20) MiB before the body, peak \(peak >> 20) MiB")
                if !TestRun.underThreadSanitizer {
                    #expect(peak - baseline < 100 << 20, "peak \(peak >> 20) MiB, \(baseline >> 20) MiB before")
                }
            case .redirect:
                try await service.waitForOutput("redirect to another origin")
                let (status, code, _) = try await write(port, token: k3Token)
                print("redirect: k3 (served by the other origin) answered \(status) \(code)")
                #expect(status != 200, "the other origin's key k3 is not used")
                #expect(!server.output.contains("target request"), "the other origin is not asked")
            case .silent, .trickle, .slow, .same, .status, .notjwks, .html, .untrusted:
                break
            }

            // SIGHUP while a fetch is in flight: the file now holds k3 only.
            let fetches = server.connections
            #expect(try await server.waitForConnections(moreThan: fetches, within: .seconds(15).scaled), "a fetch starts")
            try FileManager.default.removeItem(atPath: jwksFile)
            try FileManager.default.copyItem(atPath: keys + "/jwks-3.json", toPath: jwksFile)
            let hangup = ContinuousClock.now
            service.signal(SIGHUP)
            var refusedAfter: Duration?
            while refusedAfter == nil, ContinuousClock.now - hangup < .seconds(10) {
                let sent = ContinuousClock.now - hangup
                let status = try await write(port, token: k1Token).status
                if status == 401 || status == 503 { refusedAfter = sent }
                // Under the write rate limit (10/s): a 429 is no answer about the key.
                try await Task.sleep(for: .milliseconds(150))
            }
            print("\(mode): k1, removed from the file, refused for a request sent \(refusedAfter.map { "\($0)" } ?? "never") after SIGHUP")
            #expect(refusedAfter.map { $0 < .seconds(1).scaled } == true, "k1 refused \(String(describing: refusedAfter)) after SIGHUP")
            #expect(try await write(port, token: k3Token).status == 200, "the file's new key works at once")

            // The schedule goes on: a hung fetch ends at its deadline, and the next one comes.
            let later = server.connections
            let more = try await server.waitForConnections(moreThan: later + 1, within: .seconds(20).scaled)
            print("\(mode): fetches \(later) → \(server.connections)")
            #expect(more, "two more fetches within 20 s (refresh every 2 s, deadline 5 s)")

            service.signal(SIGTERM)
            #expect(await service.waitForExit() == 0)
            withExtendedLifetime(server) {}
        }

        @Test func withOnlyAJWKSURLThatNeverAnswersTheNodeServesHTTPAndSaysWhyItIsNotReady() async throws {
            let keys = TemporaryDirectory.make()
            try PythonTool.makeKeys(in: keys)
            let server = try await HostileJWKSServer(.silent)
            let k1Token = try PythonTool.token(keys, kid: "k1", subject: "alice")
            let spawned = ContinuousClock.now
            let service = try ServiceProcess.serve(
                dataDirectory: TemporaryDirectory.make(),
                environment: [
                    "PRESENCE_NATS_CLIENT_PORT": "0", "PRESENCE_NATS_LEAFNODE_PORT": "0", "PRESENCE_AUTH_JWKS_URL": server.url,
                ])
            let live = try await firstLiveAnswer(service, since: spawned, within: .seconds(70))
            print("URL only: /health/live first answered after \(live.map { "\($0)" } ?? "never (70 s)")")
            #expect(live.map { $0 < .seconds(4).scaled } == true, "first /health/live 200 after \(String(describing: live))")
            guard live != nil else { throw CancellationError() }

            let reason = try await readyReason(service, containing: "no token keys yet", within: .seconds(20).scaled)
            #expect(reason?.contains("auth.jwks_url") == true, "\(reason ?? "")")
            let (status, code, message) = try await write(service.httpPort, token: k1Token)
            print("URL only: a write answered \(status) \(code): \(message)")
            #expect(status == 503 && code == "unavailable", "\(status) \(code) \(message)")

            // Shutdown does not wait for the hung fetch.
            let stopping = ContinuousClock.now
            service.signal(SIGTERM)
            #expect(await service.waitForExit() == 0)
            #expect(ContinuousClock.now - stopping < .seconds(5).scaled)
            withExtendedLifetime(server) {}
        }

        /// Not every failure waits in the background: a URL that can never work stops start-up.
        @Test(arguments: ["http://idp.example.com/jwks.json", "ftp://127.0.0.1/jwks.json", "not a url"])
        func aJWKSURLThatCanNeverWorkStillStopsStartUp(_ url: String) async throws {
            let service = try ServiceProcess.serve(
                dataDirectory: TemporaryDirectory.make(),
                environment: [
                    "PRESENCE_NATS_CLIENT_PORT": "0", "PRESENCE_NATS_LEAFNODE_PORT": "0", "PRESENCE_AUTH_JWKS_URL": url,
                ])
            #expect(await service.waitForExit() == 2)
            #expect(service.output.contains("auth.jwks_url"), "\(service.output)")
        }

        @Test func concurrentTokensWithANewKidWaitForTheOneFetchInFlight() async throws {
            let keys = TemporaryDirectory.make()
            try PythonTool.makeKeys(in: keys)
            let served = TemporaryDirectory.make() + "/jwks.json"
            try FileManager.default.copyItem(atPath: keys + "/jwks-12.json", toPath: served)
            let server = try await HostileJWKSServer(.slow, file: served)
            let k3Tokens = try (0..<6).map { _ in try PythonTool.token(keys, kid: "k3", subject: "alice") }
            let service = try ServiceProcess.serve(
                dataDirectory: TemporaryDirectory.make(),
                environment: ServiceProcess.testEnvironment([
                    "PRESENCE_AUTH_JWKS_URL": server.url, "PRESENCE_AUTH_JWKS_REFRESH": "3600",
                ]))
            try await service.waitUntilReady()
            let port = service.httpPort
            let fetchesAtStart = server.connections

            // The provider rotates to k3; six requests with k3 come at once while it answers in 1 s.
            try FileManager.default.removeItem(atPath: served)
            try FileManager.default.copyItem(atPath: keys + "/jwks-3.json", toPath: served)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for token in k3Tokens { group.addTask { try await write(port, token: token).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            print("concurrent new kid: \(statuses.sorted()), fetches \(fetchesAtStart) → \(server.connections)")
            #expect(statuses == Array(repeating: 200, count: k3Tokens.count))
            #expect(server.connections == fetchesAtStart + 1, "one fetch for all of them")

            service.signal(SIGTERM)
            #expect(await service.waitForExit() == 0)
            withExtendedLifetime(server) {}
        }
    }
}
