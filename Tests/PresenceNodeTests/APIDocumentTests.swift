import Foundation
import Hummingbird
import HummingbirdTesting
import PresenceHTTP
import Testing
import Yams

/// The contract document: embedded as it is in the repository, served, rendered offline.
@Suite("OpenAPI document and /docs", .serialized, .temporaryFiles, .timeLimit(.minutes(2)))
struct APIDocumentTests {
    @Test func theEmbeddedDocumentIsTheRepositorysOpenAPIFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("Sources/PresenceHTTP/openapi.yaml"), encoding: .utf8)
        #expect(OpenAPIDocument.yaml == file)
        let link = try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        #expect(link == file, "the repository's openapi.yaml is the embedded one")
    }

    @Test func theDocumentsVersionIsTheServicesVersion() throws {
        let document = try #require(try Yams.load(yaml: OpenAPIDocument.yaml) as? [String: Any])
        let info = try #require(document["info"] as? [String: Any])
        #expect(info["version"] as? String == ServiceVersion.current)
    }

    @Test func theDocumentCoversEveryEndpointOfTheSpec() throws {
        let document = try #require(try Yams.load(yaml: OpenAPIDocument.yaml) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: Any])
        let expected: [String: [String]] = [
            "/api/v2/presence/{user_id}": ["get", "put", "delete"], "/api/v2/presence/{user_id}/heartbeat": ["post"],
            "/api/v2/presence": ["get"], "/api/v2/presence/batch": ["post"], "/api/v2/presence/stream": ["get"],
            "/health/live": ["get"], "/health/ready": ["get"], "/health/info": ["get"], "/metrics": ["get"],
            "/openapi.yaml": ["get"], "/docs": ["get"], "/": ["get"],
            "/api/v2/presence/{user_id}/sessions/{session_id}": ["put", "delete"],
            "/api/v2/presence/{user_id}/sessions/{session_id}/heartbeat": ["post"],
        ]
        for (path, methods) in expected {
            let item = try #require(paths[path] as? [String: Any], "\(path) missing")
            for method in methods { #expect(item[method] != nil, "\(method) \(path) missing") }
        }
        let text = OpenAPIDocument.yaml
        for code in [
            "bad_request", "invalid_user_id", "invalid_session_id", "invalid_status", "invalid_message", "invalid_ttl", "too_many_users",
            "unauthorized", "forbidden", "not_found", "method_not_allowed", "precondition_failed", "payload_too_large",
            "unsupported_media_type", "rate_limited", "headers_too_large", "unavailable", "outcome_unknown",
            "insufficient_storage", "internal",
        ] {
            #expect(text.contains("- \(code)"), "error code \(code) missing")
        }
        for header in ["ETag", "If-Match", "If-None-Match", "Retry-After", "WWW-Authenticate", "Allow"] {
            #expect(text.contains(header), "header \(header) missing")
        }
    }
}
