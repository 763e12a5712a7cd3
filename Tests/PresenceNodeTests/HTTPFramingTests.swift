import Foundation
import Testing

/// HTTP behaviour on the wire (SPEC §3 "HTTP behaviour"), against the real `presence` process:
/// malformed framing is a 4xx with the error body, another method on an existing path is 405
/// with `Allow`, HTTP/1.0 without keep-alive is answered and closed, JSON bodies end with a
/// newline.
@Suite("HTTP framing, methods and keep-alive", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct HTTPFramingTests {
    private func withService(_ body: (ServiceProcess) async throws -> Void) async throws {
        let service = try ServiceProcess.serve(dataDirectory: TemporaryDirectory.make())
        try await service.waitUntilReady()
        try await body(service)
        service.signal(SIGTERM)
        #expect(await service.waitForExit() == 0)
    }

    /// Sends `request` on a new connection and reads one response.
    private func exchange(_ request: String, port: Int) throws -> (RawConnection, RawConnection.Response) {
        let connection = try #require(RawConnection(port: port))
        #expect(connection.send(request))
        let response = try #require(connection.readResponse(), "no response to \(request.prefix(60))")
        return (connection, response)
    }

    @Test func malformedChunkSizesAre400WithTheErrorBody() async throws {
        try await withService { service in
            let token = try await TestNode.token("sam")
            let body = #"{"status":"online"}"#
            for size in ["-5", "zz", "123456789abcdef012"] {
                for (path, authorization) in [
                    ("/api/v2/presence/sam", "Authorization: Bearer \(token)\r\n"), ("/api/v2/presence/batch", ""),
                ] {
                    let method = path.hasSuffix("batch") ? "POST" : "PUT"
                    let request =
                        "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n\(authorization)"
                        + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "\(size)\r\n\(body)\r\n0\r\n\r\n"
                    let (connection, response) = try exchange(request, port: service.httpPort)
                    #expect(response.status == 400, "chunk size \(size) on \(path): \(response.bodyText)")
                    #expect(response.errorCode == "bad_request", "chunk size \(size) on \(path)")
                    #expect(response.bodyText.hasSuffix("}\n"))
                    #expect(response.header("connection") == "close")
                    #expect(connection.waitForClose(timeoutSeconds: 5) == .closed)
                }
            }
            // The node still answers.
            let (_, live) = try exchange("GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n", port: service.httpPort)
            #expect(live.status == 200)
        }
    }

    /// 2^64 - 1 is a valid chunk size for the decoder, so the body never ends: before, the
    /// connection was closed after the header time-out without an answer.
    @Test func aChunkThatCanNeverCompleteIsAnswered400AfterTheHeaderTimeout() async throws {
        let environment = ServiceProcess.testEnvironment(["PRESENCE_SERVICE_HTTP_HEADER_TIMEOUT": "2"])
        let service = try ServiceProcess.serve(dataDirectory: TemporaryDirectory.make(), environment: environment)
        try await service.waitUntilReady()
        let token = try await TestNode.token("sam")
        let started = ContinuousClock.now
        let (connection, response) = try exchange(
            "PUT /api/v2/presence/sam HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "FFFFFFFFFFFFFFFF\r\n{\"status\":\"online\"}\r\n0\r\n\r\n", port: service.httpPort)
        let elapsed = ContinuousClock.now - started
        #expect(response.status == 400, "\(response.bodyText)")
        #expect(response.errorCode == "bad_request")
        #expect(response.header("connection") == "close")
        #expect(elapsed < .seconds(5).scaled, "answered after \(elapsed), header timeout 2 s")
        #expect(connection.waitForClose(timeoutSeconds: 5) == .closed)
        let (status, _) = try await HTTP.request("GET", port: service.httpPort, path: "/api/v2/presence/sam")
        #expect(status == 404, "nothing was applied")
        service.signal(SIGTERM)
        #expect(await service.waitForExit() == 0)
    }

    @Test func anOversizedOrMalformedRequestHeadGetsTheErrorBody() async throws {
        try await withService { service in
            let big = String(repeating: "a", count: 20_000)
            let (bigConnection, tooLarge) = try exchange(
                "GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Big: \(big)\r\n\r\n", port: service.httpPort)
            #expect(tooLarge.status == 431)
            #expect(tooLarge.errorCode == "headers_too_large")
            #expect(tooLarge.bodyText.hasSuffix("}\n"))
            // Answered before the router, still with a request id (generated: 32 hex digits).
            let id = tooLarge.header("x-request-id") ?? ""
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit), "x-request-id: \(id)")
            #expect(bigConnection.waitForClose(timeoutSeconds: 5) == .closed)

            let (_, longURL) = try exchange(
                "GET /api/v2/presence/\(big) HTTP/1.1\r\nHost: localhost\r\n\r\n", port: service.httpPort)
            #expect(longURL.status == 431)
            #expect(longURL.errorCode == "headers_too_large")

            for garbage in ["GARBAGE\r\n\r\n", "GET /health/live HTTP/1.1\r\nNo colon here\r\n\r\n", "GET / HTTP/9.9\r\n\r\n"] {
                let (connection, response) = try exchange(garbage, port: service.httpPort)
                #expect(response.status == 400, "\(garbage.debugDescription): \(response.status)")
                #expect(response.errorCode == "bad_request", "\(garbage.debugDescription)")
                #expect(connection.waitForClose(timeoutSeconds: 5) == .closed)
            }

            // A malformed request after a good one on the same connection: the good one is
            // answered, then the error.
            let connection = try #require(RawConnection(port: service.httpPort))
            #expect(connection.send("GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\nGARBAGE\r\n\r\n"))
            #expect(connection.readResponse()?.status == 200)
            #expect(connection.readResponse()?.errorCode == "bad_request")
        }
    }

    @Test func anotherMethodOnAnExistingPathIs405WithAllow() async throws {
        try await withService { service in
            let cases: [(String, String, String)] = [
                ("PATCH", "/api/v2/presence/alice", "DELETE, GET, HEAD, PUT"),
                ("POST", "/api/v2/presence/alice", "DELETE, GET, HEAD, PUT"),
                ("DELETE", "/api/v2/presence/alice/heartbeat", "POST"),
                ("GET", "/api/v2/presence/alice/heartbeat", "POST"),
                ("POST", "/health/live", "GET, HEAD"),
                ("PUT", "/metrics", "GET, HEAD"),
                ("POST", "/api/v2/presence", "GET, HEAD"),
                ("GET", "/api/v2/presence/batch/heartbeat", "POST"),
                ("PATCH", "/api/v2/presence/stream", "DELETE, GET, PUT"),
            ]
            for (method, path, allow) in cases {
                let (_, response) = try exchange(
                    "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", port: service.httpPort)
                #expect(response.status == 405, "\(method) \(path)")
                #expect(response.errorCode == "method_not_allowed", "\(method) \(path)")
                #expect(response.header("allow") == allow, "\(method) \(path)")
            }
            for path in ["/api/v2/nothing", "/api/v2/presence/alice/sessions", "/health/other"] {
                let (_, response) = try exchange("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n", port: service.httpPort)
                #expect(response.status == 404, "\(path)")
                #expect(response.errorCode == "not_found", "\(path)")
            }
        }
    }

    @Test func http10WithoutKeepAliveIsAnsweredAndClosed() async throws {
        try await withService { service in
            let (connection, response) = try exchange("GET /health/live HTTP/1.0\r\n\r\n", port: service.httpPort)
            #expect(response.status == 200)
            #expect(response.bodyText == "{\"status\":\"ok\"}\n")
            #expect(connection.waitForClose(timeoutSeconds: 5) == .closed, "HTTP/1.0 without keep-alive must be closed")

            // HTTP/1.0 asking for keep-alive keeps the connection.
            let keptAlive = try #require(RawConnection(port: service.httpPort))
            for _ in 0..<2 {
                #expect(keptAlive.send("GET /health/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
                let again = try #require(keptAlive.readResponse())
                #expect(again.status == 200)
                #expect(again.header("connection")?.lowercased() == "keep-alive")
            }

            // HTTP/1.1 with `Connection: close` is closed after its response.
            let (closing, closed) = try exchange(
                "GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", port: service.httpPort)
            #expect(closed.header("connection") == "close")
            #expect(closing.waitForClose(timeoutSeconds: 5) == .closed)
        }
    }

    @Test func jsonBodiesEndWithANewline() async throws {
        try await withService { service in
            let token = try await TestNode.token("nia")
            let connection = try #require(RawConnection(port: service.httpPort))
            let body = #"{"status":"online"}"#
            let requests = [
                "PUT /api/v2/presence/nia HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)",
                "GET /api/v2/presence/nia HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /api/v2/presence?users=nia,nobody HTTP/1.1\r\nHost: x\r\n\r\n",
                "POST /api/v2/presence/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 20\r\n\r\n{\"user_ids\":[\"nia\"]}",
                "POST /api/v2/presence/nia/heartbeat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Length: 0\r\n\r\n",
                "GET /api/v2/presence/nobody HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /health/info HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n",
            ]
            for request in requests {
                #expect(connection.send(request))
                let response = try #require(connection.readResponse(), "\(request.prefix(40))")
                #expect(response.header("content-type")?.hasPrefix("application/json") == true)
                #expect(response.bodyText.hasSuffix("}\n"), "\(request.prefix(40)): \(response.bodyText.suffix(20).debugDescription)")
                #expect(!response.bodyText.dropLast().contains("\n"), "one line")
                #expect((try? JSONSerialization.jsonObject(with: Data(response.body))) != nil)
            }
        }
    }
}
