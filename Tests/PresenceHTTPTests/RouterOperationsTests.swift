import Foundation
import Hummingbird
import HummingbirdTesting
@testable import PresenceCore
import Testing

@testable import PresenceHTTP

/// The operations endpoints of SPEC §6 through the router: health, metrics, the API document.
@Suite("Router: health, metrics and docs")
struct RouterOperationsTests {
    @Test func liveIsAlwaysOk() async throws {
        try await RouterFixture().test(over: FailingRepository(error: PresenceError(.unavailable, "down"))) { client in
            let live = try await client.get("/health/live")
            #expect(live.status == .ok)
            #expect(live.json()["status"] as? String == "ok")
        }
    }

    @Test func readyFollowsTheRepositoryAndTheDrain() async throws {
        let fixture = RouterFixture()
        try await fixture.test { client in
            let ready = try await client.get("/health/ready")
            #expect(ready.status == .ok)
            #expect(ready.json()["ready"] as? Bool == true)

            fixture.repository.setReadiness(.notReady(#"hub "nats-leaf://hub:7422" refused the leaf credential"#))
            let notReady = try await client.get("/health/ready")
            #expect(notReady.status == .serviceUnavailable)
            #expect(notReady.headers[.retryAfter] == "1")
            #expect(notReady.json()["ready"] as? Bool == false)
            #expect(notReady.json()["reason"] as? String == #"hub "nats-leaf://hub:7422" refused the leaf credential"#)

            fixture.repository.setReadiness(.ready)
            fixture.drain.begin()
            let draining = try await client.get("/health/ready")
            #expect(draining.status == .serviceUnavailable)
            #expect(draining.json()["reason"] as? String == "shutting down")
        }
    }

    @Test func aReadinessWithoutReasonSaysNotReady() async throws {
        let repository = FailingRepository(
            error: PresenceError(.unavailable, "down"), readinessAnswer: Readiness(isReady: false, reason: nil))
        try await RouterFixture().test(over: repository) { client in
            let answer = try await client.get("/health/ready")
            #expect(answer.status == .serviceUnavailable)
            #expect(answer.json()["reason"] as? String == "not ready")
        }
    }

    @Test func infoIsTheNodeInfoAsJSON() async throws {
        try await RouterFixture().test { client in
            let info = try await client.get("/health/info")
            #expect(info.status == .ok)
            let json = info.json()
            #expect(json["node_id"] as? String == "router-test")
            #expect(json["uptime_seconds"] as? Int == 7)
            #expect((json["nats"] as? [String: Any])?["server_url"] as? String == "nats://127.0.0.1:4222")
            #expect((json["cache"] as? [String: Any])?["hit_ratio"] != nil)
            #expect(json["presence_count"] as? Int == 0)
        }
    }

    @Test func metricsCountRequestsByRouteAndRateLimitRejections() async throws {
        let fixture = RouterFixture {
            $0.writesPerSecond = 0.1
            $0.writeBurst = 1
        }
        try await fixture.test { client in
            let headers = try await RouterFixture.headers(for: "uma")
            _ = try await client.put("uma", #"{"status":"online"}"#, headers: headers)
            _ = try await client.put("uma", #"{"status":"online"}"#, headers: headers)
            _ = try await client.get("/nothing/here")
            let metrics = try await client.get("/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(metrics.text.contains(#"presence_http_requests_total{route="/api/v2/presence/{user_id}",method="PUT",status="200"} 1"#))
            #expect(metrics.text.contains(#"presence_http_requests_total{route="/api/v2/presence/{user_id}",method="PUT",status="429"} 1"#))
            #expect(metrics.text.contains(#"presence_http_requests_total{route="NotFound",method="GET",status="404"} 1"#))
            #expect(metrics.text.contains(#"presence_rate_limited_total{kind="write"} 1"#))
        }
    }

    @Test func theAPIDocumentAndAnOfflineReferencePageAreServed() async throws {
        try await RouterFixture().test { client in
            let yaml = try await client.get("/openapi.yaml")
            #expect(yaml.status == .ok)
            #expect(yaml.headers[.contentType] == "application/yaml; charset=utf-8")
            #expect(yaml.text == OpenAPIDocument.yaml)
            let docs = try await client.get("/docs")
            #expect(docs.status == .ok)
            #expect(docs.headers[.contentType] == "text/html; charset=utf-8")
            let html = docs.text
            #expect(html.contains("<h1>swift-presence"))
            #expect(html.contains("PUT</span> <code>/api/v2/presence/{user_id}</code>"))
            #expect(html.contains("precondition_failed") || html.contains("If-Match"))
            // The document's examples, the stream's event format and /health/info's fields.
            #expect(html.contains("examples</summary>"))
            #expect(html.contains("<pre>{\n  &quot;error&quot;") || html.contains("<pre>{\n  \"error\""), "an error body example")
            #expect(html.contains("retry: 2000") && html.contains("Last-Event-ID"))
            #expect(html.contains("hub_reachable"))
            // Nothing is loaded from elsewhere: no scripts, stylesheets, images or fonts.
            for forbidden in ["<script", "<link", "src=", "@import", "url("] {
                #expect(!html.contains(forbidden), "\(forbidden) in /docs")
            }
        }
    }

    @Test func theRootPointsToTheDocsAndTheNodeInfo() async throws {
        try await RouterFixture().test { client in
            let root = try await client.get("/")
            #expect(root.status == .ok)
            #expect(root.headers[.contentType] == "text/html; charset=utf-8")
            #expect(root.text.contains(#"href="/docs""#) && root.text.contains(#"href="/health/info""#))
            let post = try await client.execute(uri: "/", method: .post)
            #expect(post.status == .methodNotAllowed)
        }
    }

    @Test("HEAD of an operations endpoint has the GET's headers and no body", arguments: [
        "/health/live", "/health/ready", "/health/info", "/metrics", "/openapi.yaml", "/docs", "/",
    ])
    func headOfOperationsEndpoints(path: String) async throws {
        try await RouterFixture().test { client in
            let head = try await client.execute(uri: path, method: .head)
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0)
            #expect(head.headers[.contentType] != nil)
        }
    }
}
