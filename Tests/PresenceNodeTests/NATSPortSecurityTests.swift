import Foundation
import NATSClient
import Testing

/// The NATS ports are part of the attack surface (SPEC §5): the JetStream API behind a
/// center's leafnode port writes presence without any JWT. Real processes: a center, our
/// leaves, and a foreign nats-server that tries to join as a leaf.
@Suite("NATS ports", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct NATSPortSecurityTests {
    static let credentials = ["PRESENCE_NATS_LEAF_USER": "leafy", "PRESENCE_NATS_LEAF_PASSWORD": "s3cret-pass"]

    /// The JetStream API requests a leaf must not get answered, with the payload each needs.
    static let forbidden: [(String, String)] = [
        ("$JS.hub.API.STREAM.DELETE.KV_presence", ""),
        ("$JS.hub.API.STREAM.PURGE.KV_presence", ""),
        ("$JS.hub.API.STREAM.UPDATE.KV_presence", #"{"name":"KV_presence","subjects":["$KV.presence.>"],"max_msgs_per_subject":1,"discard":"new","max_age":1000000000}"#),
        ("$JS.hub.API.STREAM.CREATE.EVIL", #"{"name":"EVIL","subjects":["evil.>"]}"#),
        ("$JS.API.STREAM.DELETE.KV_presence", ""),
    ]

    @Test func aCredentialedLeafReadsAndWritesPresenceButCannotDeletePurgeUpdateOrCreateStreams() async throws {
        let topology = try await Topology.startCenter(extraEnvironment: Self.credentials)
        let leaf = try topology.startLeaf(name: "trusted", extraEnvironment: Self.credentials)
        try await leaf.waitUntilReady()
        let (written, record) = try await leaf.put("tina", #"{"status":"online","message":"via the leaf"}"#)
        #expect(written == 200)

        // The leaf's own nats-server, as anyone on the leaf's machine with its client credential
        // could use it; replies come only on the leaf user's inbox prefix.
        var options = NATSConnectionOptions(urls: [leaf.natsClientURL], name: "probe")
        options.inboxPrefix = "_INBOX_LEAF.leafy"
        let connection = try await NATSConnection.connect(options: options)
        let info = try await connection.request("$JS.hub.API.STREAM.INFO.KV_presence", timeout: .seconds(2))
        #expect(String(decoding: info, as: UTF8.self).contains(#""name":"KV_presence""#), "reading the bucket's state is allowed")
        for (subject, payload) in Self.forbidden {
            if let bytes = try? await connection.request(subject, payload: Array(payload.utf8), timeout: .seconds(1)) {
                Issue.record("\(subject) was answered through the leaf: \(String(decoding: bytes, as: UTF8.self))")
            }
        }

        // A put with a roll-up header would purge every other record of the stream.
        let rollup = try? await connection.request(
            "$JS.hub.API.$KV.presence.mallory", payload: Array("x".utf8), headers: ["Nats-Rollup": "all"],
            timeout: .seconds(1))
        if let bytes = rollup {
            #expect(String(decoding: bytes, as: UTF8.self).contains("error"), "a roll-up must be refused")
        }

        // Nothing happened to the bucket: the record is there on the center, writes still work.
        let (status, onCenter) = try await topology.center.get("/api/v2/presence/tina")
        #expect(status == 200)
        #expect(onCenter["revision"] as? Int == record["revision"] as? Int)
        let (again, _) = try await leaf.put("tina", #"{"status":"away"}"#)
        #expect(again == 200)
        let streams = try await NATSConnection.connect(
            options: NATSConnectionOptions(urls: [topology.center.natsClientURL], name: "check"))
        let names = String(decoding: try await streams.request("$JS.API.STREAM.NAMES", timeout: .seconds(2)), as: UTF8.self)
        #expect(!names.contains("EVIL"), "no stream was created: \(names)")
        await streams.close()
        await connection.close()
        await leaf.stop()
        await topology.center.stop()
    }

    @Test func aForeignNATSServerWithoutTheCredentialGetsNothingFromTheCenter() async throws {
        let topology = try await Topology.startCenter(extraEnvironment: Self.credentials)
        let roguePort = FreePort.consecutive(1)
        let rogue = try PlainNATSServer.foreignLeaf(of: "nats-leaf://127.0.0.1:\(topology.leafnodePort)", port: roguePort)
        defer { rogue.stop() }
        try await Task.sleep(for: .seconds(2))
        let connection = try await NATSConnection.connect(
            options: NATSConnectionOptions(urls: ["nats://127.0.0.1:\(roguePort)"], name: "rogue"))
        let info = try? await connection.request("$JS.hub.API.STREAM.INFO.KV_presence", timeout: .seconds(1))
        #expect(info == nil, "the bucket must not even be visible")
        for (subject, payload) in Self.forbidden + [("$JS.hub.API.$KV.presence.bWFsbG9yeQ", #"{"user_id":"mallory"}"#)] {
            let answer = try? await connection.request(subject, payload: Array(payload.utf8), timeout: .seconds(1))
            #expect(answer == nil, "\(subject) was answered through a foreign leaf")
        }
        await connection.close()
        let (_, info2) = try await topology.center.get("/health/info")
        #expect((info2["leafnodes"] as? [[String: Any]])?.isEmpty == true, "no leaf is connected: \(info2)")
        let (missing, _) = try await topology.center.get("/api/v2/presence/mallory")
        #expect(missing == 404)
        await topology.center.stop()
    }

    @Test func aLeafnodePortOffLoopbackWithoutLeafAuthenticationStopsStartUpNamingTheKey() async throws {
        let service = try ServiceProcess.serve(
            dataDirectory: TemporaryDirectory.make(),
            environment: ServiceProcess.testEnvironment(["PRESENCE_NATS_LEAFNODE_HOST": "0.0.0.0"]))
        let status = await service.waitForExit()
        #expect(status != nil && status != 0)
        #expect(service.output.contains("nats.leafnode_host"))
        #expect(service.output.contains("nats.leaf_user"))
        #expect(service.natsServerPID == nil, "nothing was started")
    }
}
