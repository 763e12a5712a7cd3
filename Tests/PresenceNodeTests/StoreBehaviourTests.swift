import EmbeddedNATS
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PresenceCore
import PresenceNode
import Testing

/// The store behind the API: a bounded replica falling back to the bucket, and an external NATS.
@Suite("Store behaviour", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct StoreBehaviourTests {
    @Test func evictedRecordsAreReadFromTheBucketAndMissesAreRemembered() async throws {
        try await TestNode.withNode({ $0.cacheMaxCost = 20_000; $0.writeBurst = 1000; $0.writesPerSecond = 1000 }) {
            node, client in
            let admin = try await TestNode.headers(for: "root", scopes: ["presence:admin"])
            for index in 0..<200 {
                let response = try await client.execute(
                    uri: "/api/v2/presence/evict\(index)", method: .put, headers: admin,
                    body: ByteBuffer(json: #"{"status":"online","message":"number \#(index)"}"#))
                #expect(response.status == .ok)
            }
            let statistics = node.store.replica.statistics
            #expect(statistics.evictions > 0)
            #expect(statistics.costBytes <= 20_000)
            let neverWritten = try UserID(validating: "never-written")
            #expect(node.store.replica.lookup(neverWritten, now: .now()) == .unknown, "after evictions a miss asks the bucket")
            // Every record still reads, from the replica or from the bucket.
            for index in 0..<200 {
                let response = try await client.execute(uri: "/api/v2/presence/evict\(index)", method: .get)
                #expect(response.status == .ok)
                #expect(response.json["message"] as? String == "number \(index)")
            }
            let missing = try await client.execute(uri: "/api/v2/presence/never-written", method: .get)
            #expect(missing.status == .notFound)
            #expect(node.store.replica.lookup(try UserID(validating: "never-written"), now: Timestamp.now()) == .absent)
        }
    }

    @Test func anExistingNATSCanBeUsedInsteadOfTheEmbeddedOne() async throws {
        var external = EmbeddedNATSConfiguration(
            serverName: "external", dataDirectory: TemporaryDirectory.make(), mode: .center(leafnodePort: 0))
        external.clientPort = 0
        var logger = Logger(label: "external-nats")
        logger.logLevel = .warning
        let server = NATSServerSupervisor(configuration: external, logger: logger)
        try await server.start()
        do {
            try await TestNode.withNode({
                $0.natsEmbedded = false
                $0.natsURL = server.clientURL
                $0.natsUser = server.clientCredential?.user
                $0.natsPassword = server.clientCredential?.password
            }) { node, client in
                #expect(node.supervisor == nil)
                let put = try await client.execute(
                    uri: "/api/v2/presence/ext", method: .put, headers: try await TestNode.headers(for: "ext"),
                    body: ByteBuffer(json: #"{"status":"busy"}"#))
                #expect(put.status == .ok)
                let info = try await client.execute(uri: "/health/info", method: .get).json
                #expect((info["nats"] as? [String: Any])?["server_url"] as? String == server.clientURL)
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
