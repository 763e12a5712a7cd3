import Crypto
import Foundation
import Testing

/// Traces across the topology (issue 27): a client's `traceparent` on a leaf's PUT, spans on
/// the leaf and on the center, one trace, exported over OTLP/HTTP to an in-process receiver.
@Suite("Tracing", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct TracingTopologyTests {
    @Test func aLeafWriteIsOneTraceFromTheClientToTheCenter() async throws {
        let receiver = try await OTLPReceiver()
        let tracing = [
            "PRESENCE_TRACING_OTLP_ENDPOINT": receiver.endpoint, "PRESENCE_TRACING_OTLP_PROTOCOL": "http/json",
            // Unsampled unless the client says so: only the client's trace is exported.
            "PRESENCE_TRACING_SAMPLE_RATIO": "0",
        ]
        let topology = try await Topology.startCenter(
            extraEnvironment: tracing.merging(["PRESENCE_TRACING_SERVICE_NAME": "presence-center"]) { $1 })
        let leaf = try topology.startLeaf(
            name: "leaf-1", extraEnvironment: tracing.merging(["PRESENCE_TRACING_SERVICE_NAME": "presence-leaf"]) { $1 })
        try await leaf.waitUntilReady()

        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let clientSpanID = "00f067aa0ba902b7"
        let user = "tracy-in-clear"
        let token = try await TestNode.token("root", scopes: ["presence:admin"])
        let (status, _) = try await HTTP.request(
            "PUT", port: leaf.httpPort, path: "/api/v2/presence/\(user)",
            headers: ["Authorization": "Bearer \(token)", "traceparent": "00-\(traceID)-\(clientSpanID)-01"],
            body: #"{"status":"online"}"#)
        #expect(status == 200)

        // Each node exports on its own schedule (every 2 s).
        let expected: Set = [
            "PUT /api/v2/presence/{user_id}", "presence.token.check", "presence.kv.write", "presence.kv.ack",
            "presence.kv.receive",
        ]
        let arrived = try await receiver.wait(within: .seconds(20)) { spans in
            expected.isSubset(of: Set(spans.filter { $0.traceID == traceID }.map(\.name)))
        }
        let spans = receiver.received.filter { $0.traceID == traceID }
        #expect(arrived, "spans of the trace: \(spans.map { "\($0.service) \($0.name)" })")

        let request = try #require(spans.first { $0.name == "PUT /api/v2/presence/{user_id}" }, "\(spans.map(\.name))")
        #expect(request.service == "presence-leaf")
        #expect(request.parentSpanID == clientSpanID, "the request span continues the client's trace")
        #expect(request.attributes["http.response.status_code"] == "200")
        let hash = SHA256.hash(data: Array(user.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        #expect(request.attributes["presence.user_hash"] == hash)
        let check = try #require(spans.first { $0.name == "presence.token.check" })
        #expect(check.parentSpanID == request.spanID && check.service == "presence-leaf")
        let write = try #require(spans.first { $0.name == "presence.kv.write" })
        #expect(write.parentSpanID == request.spanID && write.service == "presence-leaf")
        let ack = try #require(spans.first { $0.name == "presence.kv.ack" })
        #expect(ack.parentSpanID == write.spanID && ack.service == "presence-leaf")
        let receive = try #require(spans.first { $0.name == "presence.kv.receive" })
        #expect(receive.parentSpanID == ack.spanID, "the center's span is a child of the leaf's publish")
        #expect(receive.service == "presence-center")
        // Nothing else was sampled (ratio 0), and the user id is nowhere in clear.
        #expect(Set(receiver.received.map(\.traceID)) == [traceID])
        #expect(!receiver.receivedBodies.contains { $0.contains(user) })

        await leaf.stop()
        await topology.center.stop()
    }
}
