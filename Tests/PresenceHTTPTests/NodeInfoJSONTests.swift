import Foundation
import PresenceCore
import Testing

@testable import PresenceHTTP

/// The `/health/info` body, written by hand with the one JSON string escaper.
struct NodeInfoJSONTests {
    func info(serverURL: String?, leafnodes: [NodeInfo.Leafnode]?, hits: Int = 3, misses: Int = 1) -> NodeInfo {
        var statistics = CacheStatistics()
        statistics.entries = 2
        statistics.costBytes = 640
        statistics.hits = hits
        statistics.misses = misses
        statistics.evictions = 1
        return NodeInfo(
            nodeID: #"center "eu"\1"#, role: "center", version: "0.1.0", uptimeSeconds: 42,
            nats: .init(connected: true, serverURL: serverURL, reconnects: 2, hubReachable: false),
            cache: .init(statistics), presenceCount: 5, leafnodes: leafnodes)
    }

    @Test func everyFieldIsWrittenAndStringsAreEscaped() throws {
        let body = info(serverURL: "nats://127.0.0.1:4222", leafnodes: [.init(name: "leaf\n1", address: "10.0.0.2:7422")]).json
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(json["node_id"] as? String == #"center "eu"\1"#)
        #expect(json["role"] as? String == "center")
        #expect(json["version"] as? String == "0.1.0")
        #expect(json["uptime_seconds"] as? Int == 42)
        #expect(json["presence_count"] as? Int == 5)
        let nats = try #require(json["nats"] as? [String: Any])
        #expect(nats["connected"] as? Bool == true)
        #expect(nats["server_url"] as? String == "nats://127.0.0.1:4222")
        #expect(nats["reconnects"] as? Int == 2)
        #expect(nats["hub_reachable"] as? Bool == false)
        let cache = try #require(json["cache"] as? [String: Any])
        #expect(cache["entries"] as? Int == 2)
        #expect(cache["cost_bytes"] as? Int == 640)
        #expect(cache["hits"] as? Int == 3)
        #expect(cache["misses"] as? Int == 1)
        #expect(cache["evictions"] as? Int == 1)
        #expect(cache["hit_ratio"] as? Double == 0.75)
        let leaves = try #require(json["leafnodes"] as? [[String: Any]])
        #expect(leaves.count == 1)
        #expect(leaves.first?["name"] as? String == "leaf\n1")
        #expect(leaves.first?["address"] as? String == "10.0.0.2:7422")
    }

    @Test func absentOptionalsAreLeftOut() throws {
        let body = info(serverURL: nil, leafnodes: nil, hits: 0, misses: 0).json
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(json["leafnodes"] == nil)
        #expect((json["nats"] as? [String: Any])?["server_url"] == nil)
        #expect((json["cache"] as? [String: Any])?["hit_ratio"] as? Double == 0)
    }

    @Test func theWriterWritesNullForANumberJSONCannotHold() {
        var writer = JSONObjectWriter()
        writer.add("ratio", Double.nan)
        writer.add("list", [JSONObjectWriter(), JSONObjectWriter()])
        #expect(writer.finish() == Array(#"{"ratio":null,"list":[{},{}]}"#.utf8))
    }
}
