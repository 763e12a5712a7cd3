import Foundation
import Testing

/// HTTP behaviour on the wire (SPEC §3 "HTTP behaviour"), against the real `presence` process:
/// another method on an existing path is 405 with `Allow`, JSON bodies end with a newline.
@Suite("HTTP framing, methods and keep-alive", .serialized, .timeLimit(.minutes(3)))
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
