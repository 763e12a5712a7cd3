import Foundation
import Hummingbird
import HummingbirdTesting
import PresenceNode
import Testing

@Suite("Health endpoints", .serialized, .temporaryFiles, .timeLimit(.minutes(2)))
struct HealthEndpointTests {
    @Test func liveReadyAndInfo() async throws {
        try await TestNode.withNode { node, client in
            let live = try await client.execute(uri: "/health/live", method: .get)
            #expect(live.status == .ok)
            #expect(live.json["status"] as? String == "ok")
            let ready = try await client.execute(uri: "/health/ready", method: .get)
            #expect(ready.json["ready"] as? Bool == true)

            _ = try await client.execute(
                uri: "/api/v2/presence/zed", method: .put, headers: try await TestNode.headers(for: "zed"),
                body: ByteBuffer(json: #"{"status":"online"}"#))
            let info = try await client.execute(uri: "/health/info", method: .get).json
            #expect(info["node_id"] as? String == "test-node")
            #expect(info["role"] as? String == "center")
            #expect(info["version"] as? String == PresenceNode.version)
            #expect(info["uptime_seconds"] as? Int != nil)
            #expect(info["presence_count"] as? Int == 1)
            let nats = try #require(info["nats"] as? [String: Any])
            #expect(nats["connected"] as? Bool == true)
            #expect((nats["server_url"] as? String)?.hasPrefix("nats://127.0.0.1:") == true)
            #expect(nats["reconnects"] as? Int == 0)
            #expect(nats["hub_reachable"] as? Bool == true)
            let cache = try #require(info["cache"] as? [String: Any])
            for key in ["entries", "cost_bytes", "hits", "misses", "evictions", "hit_ratio"] {
                #expect(cache[key] != nil, "cache.\(key)")
            }
            #expect(info["leafnodes"] as? [Any] != nil)
        }
    }

    @Test func metricsExposeTheFamiliesAfterTraffic() async throws {
        try await TestNode.withNode { _, client in
            let headers = try await TestNode.headers(for: "mia")
            _ = try await client.execute(
                uri: "/api/v2/presence/mia", method: .put, headers: headers, body: ByteBuffer(json: #"{"status":"away"}"#))
            _ = try await client.execute(uri: "/api/v2/presence/mia", method: .get)
            _ = try await client.execute(uri: "/api/v2/presence/nobody", method: .get)
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(buffer: response.body)
            for family in [
                "presence_http_requests_total", "presence_http_request_duration_seconds_bucket", "presence_cache_entries",
                "presence_cache_hits_total", "presence_cache_misses_total", "presence_cache_evictions_total",
                "presence_kv_operation_duration_seconds_bucket", "presence_watcher_events_total",
                "presence_watcher_lag_seconds_bucket", "presence_nats_reconnects_total", "presence_users",
                "presence_rate_limited_total", "presence_streams_open", "presence_stream_buffered_bytes",
                "presence_build_info", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                "process_start_time_seconds",
            ] {
                #expect(text.contains(family), "missing \(family)")
            }
            #expect(text.contains(#"presence_users{status="away"} 1"#))
            #expect(text.contains(#"route="/api/v2/presence/{user_id}""#) || text.contains(#"route="/api/v2/presence/:user_id""#))
            #expect(text.contains(#"status="404""#))
            // Prometheus's own linter: names, types, help texts, units, histograms.
            let lint = try Promtool.checkMetrics(text)
            #expect(lint.status == 0, "promtool check metrics (127: promtool missing, run scripts/install-test-tools.sh): \(lint.output)")
        }
    }
}
