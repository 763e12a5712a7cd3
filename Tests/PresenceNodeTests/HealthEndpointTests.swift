import Foundation
import Hummingbird
import HummingbirdTesting
import PresenceNode
import Testing

@Suite("Health endpoints", .serialized, .timeLimit(.minutes(2)))
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
}
