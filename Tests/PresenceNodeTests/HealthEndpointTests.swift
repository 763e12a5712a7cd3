import Foundation
import Hummingbird
import HummingbirdTesting
import PresenceNode
import Testing

@Suite("Health endpoints", .serialized, .temporaryFiles, .timeLimit(.minutes(2)))
struct HealthEndpointTests {
    @Test func liveReadyAndInfo() async throws {
        let started = ContinuousClock.now
        try await TestNode.withNode { node, client in
            let live = try await client.execute(uri: "/health/live", method: .get)
            #expect(live.status == .ok)
            #expect(live.json["status"] as? String == "ok")
            let ready = try await client.execute(uri: "/health/ready", method: .get)
            #expect(ready.status == .ok)
            #expect(ready.json["ready"] as? Bool == true)
            #expect(ready.json["reason"] == nil)

            let headers = try await TestNode.headers(for: "zed")
            let written = try await client.execute(
                uri: "/api/v2/presence/zed", method: .put, headers: headers, body: ByteBuffer(json: #"{"status":"online"}"#))
            #expect(written.status == .ok)
            let before = try await client.execute(uri: "/health/info", method: .get).json
            #expect(before["node_id"] as? String == "test-node")
            #expect(before["role"] as? String == "center")
            #expect(before["version"] as? String == PresenceNode.version)
            let uptime = try #require(before["uptime_seconds"] as? Int)
            let elapsed = (ContinuousClock.now - started).components.seconds
            #expect(uptime >= 0 && uptime <= elapsed, "up \(uptime) s, but the node was started \(elapsed) s ago")
            #expect(before["presence_count"] as? Int == 1)
            let nats = try #require(before["nats"] as? [String: Any])
            #expect(nats["connected"] as? Bool == true)
            #expect(nats["server_url"] as? String == node.supervisor?.clientURL, "the embedded server's own URL")
            #expect(nats["reconnects"] as? Int == 0)
            #expect(nats["hub_reachable"] as? Bool == true)
            #expect((before["leafnodes"] as? [Any])?.isEmpty == true, "no leaf is connected")
            let cache = try #require(before["cache"] as? [String: Any])
            #expect(cache["entries"] as? Int == 1, "zed's record")
            #expect((cache["cost_bytes"] as? Int ?? 0) > 0)
            #expect(cache["evictions"] as? Int == 0)
            let hits = try #require(cache["hits"] as? Int)
            let misses = try #require(cache["misses"] as? Int)
            #expect(cache["hit_ratio"] as? Double == Self.ratio(hits: hits, misses: misses))

            // One read of a held record and one of an unknown user: one hit and one miss more.
            #expect(try await client.execute(uri: "/api/v2/presence/zed", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/api/v2/presence/nobody", method: .get).status == .notFound)
            let after = try #require(try await client.execute(uri: "/health/info", method: .get).json["cache"] as? [String: Any])
            #expect(after["hits"] as? Int == hits + 1)
            #expect(after["misses"] as? Int == misses + 1)
            #expect(after["hit_ratio"] as? Double == Self.ratio(hits: hits + 1, misses: misses + 1))
            #expect(after["entries"] as? Int == 1 && after["cost_bytes"] as? Int == cache["cost_bytes"] as? Int)
        }
    }

    /// `hit_ratio` as `/health/info` reports it: hits / (hits + misses), 0 before any lookup.
    private static func ratio(hits: Int, misses: Int) -> Double {
        hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses)
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
            // Values, not only names: mia's record, the one 404, no stream, a process that exists.
            #expect(Self.sample(text, "presence_cache_entries") == 1)
            #expect((Self.sample(text, "presence_cache_hits_total") ?? 0) >= 1, "the read of mia")
            #expect((Self.sample(text, "presence_cache_misses_total") ?? 0) >= 1, "the read of nobody")
            #expect(Self.sample(text, "presence_http_requests_total", labels: [#"status="404""#]) == 1)
            #expect(Self.sample(text, "presence_streams_open") == 0)
            #expect((Self.sample(text, "process_open_fds") ?? 0) > 0)
            #expect((Self.sample(text, "process_resident_memory_bytes") ?? 0) > 0)
            #expect(text.contains(#"route="/api/v2/presence/{user_id}""#) || text.contains(#"route="/api/v2/presence/:user_id""#))
            #expect(text.contains(#"status="404""#))
            // Prometheus's own linter: names, types, help texts, units, histograms.
            let lint = try Promtool.checkMetrics(text)
            #expect(lint.status == 0, "promtool check metrics (127: promtool missing, run scripts/install-test-tools.sh): \(lint.output)")
        }
    }

    /// The value of the first sample of `name` whose labels include every one of `labels`
    /// (Prometheus text format: `name{labels} value` or `name value`).
    private static func sample(_ text: String, _ name: String, labels: [String] = []) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            guard labels.allSatisfy({ line.contains($0) }), let value = line.split(separator: " ").last else { continue }
            return Double(value)
        }
        return nil
    }
}
