import NIOConcurrencyHelpers
import Foundation
import Synchronization
import PresenceNode
import Testing

/// Slow clients cannot use up a node's connections (SPEC §3 "HTTP behaviour"): a request head
/// must be complete within `service.http.header_timeout`, an idle keep-alive connection is
/// closed after `service.http.idle_timeout`.
extension HeavyProcessSuites {
    @Suite("Slow clients", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
    struct SlowClientTests {
        /// A request of a well-behaved client made during the attack.
        private struct GoodRequest {
            let answered: Bool
            let seconds: Double
        }

        @Test func goodRequestsAreAnsweredWhileSlowlorisHoldsMoreConnectionsThanTheFileLimit() async throws {
            let directory = TemporaryDirectory.make()
            let environment = ServiceProcess.testEnvironment(["PRESENCE_SERVICE_HTTP_HEADER_TIMEOUT": "2"])
            let service = try ServiceProcess.serve(
                dataDirectory: directory, environment: environment, shellPrefix: "ulimit -n 256")
            try await service.waitUntilReady()

            // 400 connections trickling one header byte a second, against 256 descriptors.
            let attack = Slowloris(port: service.httpPort, connections: 400)
            attack.start()
            var mostDescriptors = 0
            for _ in 0..<30 {
                mostDescriptors = max(mostDescriptors, service.openFileDescriptors ?? 0)
                try await Task.sleep(for: .milliseconds(100))
            }

            // 20 good requests, one every half second, each on a new connection, while it runs.
            let results = Locked<[GoodRequest]>([])
            let port = service.httpPort
            for _ in 0..<20 {
                Thread {
                    let started = ContinuousClock.now
                    var answered = false
                    if let connection = RawConnection(port: port, timeoutSeconds: 15),
                        connection.send("GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    {
                        answered = connection.readResponse()?.status == 200
                    }
                    let seconds = (ContinuousClock.now - started).inSeconds
                    results.withLockedValue { $0.append(GoodRequest(answered: answered, seconds: seconds)) }
                }.start()
                for _ in 0..<5 {
                    mostDescriptors = max(mostDescriptors, service.openFileDescriptors ?? 0)
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while results.withLockedValue({ $0.count }) < 20, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            await attack.stop()

            let outcomes = results.withLockedValue { $0 }
            let answered = outcomes.filter(\.answered)
            let slowest = answered.map(\.seconds).max() ?? 0
            let stats = attack.stats
            print(
                "slowloris: \(answered.count)/20 good requests answered (slowest \(String(format: "%.1f", slowest)) s); "
                    + "attack opened \(stats.opened) connections, the node cut \(stats.cutByServer); "
                    + "node had at most \(mostDescriptors) descriptors open (limit 256)")
            // 256 descriptors leave 256 - 64 - 3 per core for connections (ConnectionBudget): the
            // attack takes all of those, and the node keeps the rest for itself (a process out of
            // descriptors can trap in a library: seen once here before the budget, signal 4).
            let budget = ConnectionBudget(configured: 0, fileLimit: 256).maxConnections
            #expect(service.output.contains("max_connections=\(budget)"))
            #expect(mostDescriptors >= budget, "the attack must take every connection the node allows")
            #expect(mostDescriptors <= 256 - 16, "the node keeps descriptors for itself")
            #expect(stats.cutByServer > 0, "slow heads must be cut")
            #expect(outcomes.count == 20 && answered.count == 20, "every good request is answered within 15 s")
            // A slow head makes room for a new connection (before: good requests waited 8–19 s).
            // 19 of 20 within a second: one outlier on a loaded machine is not the node's doing.
            let secondSlowest = answered.map(\.seconds).sorted().dropLast().last ?? .infinity
            #expect(secondSlowest < 1.0 * TestTime.scale, "the second slowest good request took \(secondSlowest) s")
            if answered.count < 20 {
                // Seen once in a full parallel run: the node stopped listening half-way. Say why.
                let state = service.process.isRunning ? "running" : "exited with \(service.process.terminationStatus)"
                print("slowloris: the node is \(state); its log ends:\n\(service.output.suffix(4000))")
            }

            let (status, _) = try await HTTP.request("GET", port: service.httpPort, path: "/health/live")
            #expect(status == 200)
            service.signal(SIGTERM)
            #expect(await service.waitForExit() == 0)
        }

        @Test func aBodyThatStopsComingIsCutAfterTheHeaderTimeout() async throws {
            let directory = TemporaryDirectory.make()
            let environment = ServiceProcess.testEnvironment(["PRESENCE_SERVICE_HTTP_HEADER_TIMEOUT": "2"])
            let service = try ServiceProcess.serve(dataDirectory: directory, environment: environment)
            try await service.waitUntilReady()
            let token = try await TestNode.token("bob")
            for path in ["/api/v2/presence/bob", "/health/live"] {
                let connection = try #require(RawConnection(port: service.httpPort))
                let method = path.hasPrefix("/health") ? "GET" : "PUT"
                let started = ContinuousClock.now
                #expect(connection.send(
                    "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"status\""))
                if method == "GET" {
                    // Answered at once (a GET reads no body), then the withheld body holds nothing open.
                    #expect(connection.readResponse()?.status == 200)
                } else {
                    // Answered when the body stops coming, before the connection closes.
                    let response = connection.readResponse()
                    #expect(response?.status == 400)
                    #expect(response?.errorCode == "bad_request")
                }
                let outcome = connection.waitForClose(timeoutSeconds: 8)
                let elapsed = ContinuousClock.now - started
                #expect(outcome == .closed, "\(method): a withheld body must not hold the connection")
                #expect(elapsed >= .milliseconds(1500) && elapsed <= .seconds(6).scaled, "\(method): cut after \(elapsed), timeout 2 s")
            }
            service.signal(SIGTERM)
            #expect(await service.waitForExit() == 0)
        }

        @Test func aHeadTrickledByteByByteIsCutAfterTheHeaderTimeout() async throws {
            let directory = TemporaryDirectory.make()
            let environment = ServiceProcess.testEnvironment(["PRESENCE_SERVICE_HTTP_HEADER_TIMEOUT": "2"])
            let service = try ServiceProcess.serve(dataDirectory: directory, environment: environment)
            try await service.waitUntilReady()
            let connection = try #require(RawConnection(port: service.httpPort))
            let head = Array("GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".utf8) + Array(repeating: 97, count: 100)
            let started = ContinuousClock.now
            var closedAfter: Duration?
            for byte in head {
                if connection.waitForClose(timeoutSeconds: 0.5) == .closed || !connection.send([byte]) {
                    closedAfter = ContinuousClock.now - started
                    break
                }
            }
            let elapsed = try #require(closedAfter, "a trickled head must be cut")
            #expect(elapsed >= .milliseconds(1500) && elapsed <= .seconds(5).scaled, "cut after \(elapsed), timeout 2 s")
            service.signal(SIGTERM)
            #expect(await service.waitForExit() == 0)
        }

        @Test func keepAliveConnectionsStayOpenBetweenRequestsAndCloseWhenIdle() async throws {
            let directory = TemporaryDirectory.make()
            let environment = ServiceProcess.testEnvironment([
                "PRESENCE_SERVICE_HTTP_HEADER_TIMEOUT": "2", "PRESENCE_SERVICE_HTTP_IDLE_TIMEOUT": "4",
            ])
            let service = try ServiceProcess.serve(dataDirectory: directory, environment: environment)
            try await service.waitUntilReady()
            let connection = try #require(RawConnection(port: service.httpPort))
            let request = "GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n"
            #expect(connection.send(request))
            #expect(connection.readResponse()?.status == 200)
            // Quiet for longer than the header timeout but less than the idle timeout: the header
            // timeout counts from a request's first byte, so the next request is still served.
            #expect(connection.waitForClose(timeoutSeconds: 3) == .timedOut)
            #expect(connection.send(request))
            #expect(connection.readResponse()?.status == 200)
            let idleSince = ContinuousClock.now
            #expect(connection.waitForClose(timeoutSeconds: 8) == .closed, "an idle connection is closed")
            let idle = ContinuousClock.now - idleSince
            #expect(idle >= .milliseconds(3500), "closed after \(idle), idle timeout 4 s")
            service.signal(SIGTERM)
            #expect(await service.waitForExit() == 0)
        }
    }
}

extension Duration {
    /// The duration as a number of seconds.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
