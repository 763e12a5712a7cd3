import Foundation
import NATSClient
import NIOConcurrencyHelpers
import PresenceCore
import Testing

extension HeavyProcessSuites {
    /// The heartbeat plane (SPEC §3a) across real processes: a heartbeat costs no durable write,
    /// reaches every node within a second, ends in one offline event at `ttl` after the last
    /// one, and nobody who keeps heartbeating reads offline on a node that just started, after
    /// a center restart, or ever; a leaf cut from the hub refuses heartbeats. Among the heavy
    /// suites: its bounds (a second, `ttl + 1.5 s`) are measured on a machine not loaded by others.
    @Suite("Heartbeat plane", .serialized, .temporaryFiles, .timeLimit(.minutes(5)))
    struct HeartbeatPlaneTests {
        static func adminHeaders() async throws -> [String: String] {
            ["Authorization": "Bearer \(try await TestNode.token("root", scopes: ["presence:admin"]))"]
        }

        static func heartbeat(_ node: ServiceProcess, _ user: String, _ headers: [String: String]) async throws -> (Int, [String: Any]) {
            try await HTTP.request("POST", port: node.httpPort, path: "/api/v2/presence/\(user)/heartbeat", headers: headers)
        }

        /// The bucket stream's last sequence, read on the center's NATS.
        static func bucketLastSequence(_ center: ServiceProcess) async throws -> UInt64 {
            let connection = try await NATSConnection.connect(options: .init(urls: [center.natsClientURL], name: "operator"))
            defer { Task { await connection.close() } }
            let bucket = try await connection.jetStream(domain: nil, timeout: .seconds(2)).keyValue(.init(bucket: "presence"))
            return try await bucket.state(timeout: .seconds(2)).lastSequence
        }

        static func time(_ body: [String: Any], _ field: String) throws -> Timestamp {
            try #require((body[field] as? String).flatMap(Timestamp.init(rfc3339:)), "\(field) in \(body)")
        }

        /// A counter's value in a node's `/metrics` (0 when absent).
        static func counter(_ node: ServiceProcess, _ name: String) throws -> Double {
            let text = try RawHTTP.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: node.httpPort)
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        }

        @Test func aHeartbeatReachesEveryNodeWithoutABucketWriteAndItsEndIsOneOfflineEvent() async throws {
            let topology = try await Topology.startCenter(extraEnvironment: ["PRESENCE_PRESENCE_SWEEP_INTERVAL": "0.2"])
            let leaf1 = try topology.startLeaf(name: "leaf-1")
            let leaf2 = try topology.startLeaf(name: "leaf-2")
            try await leaf1.waitUntilReady()
            try await leaf2.waitUntilReady()
            let nodes = [topology.center, leaf1, leaf2]
            let admin = try await Self.adminHeaders()

            let (put, written) = try await leaf1.put("alice", #"{"status":"online","message":"hi","ttl":10}"#)
            #expect(put == 200)
            #expect(try await everywhere(nodes, "/api/v2/presence/alice", within: .seconds(5)) { $0["revision"] as? Int == written["revision"] as? Int })
            let stream = try SSEClient(port: leaf2.httpPort, path: "/api/v2/presence/stream?users=alice")
            #expect(await stream.wait { $0.presences.count == 1 })
            let before = try await Self.bucketLastSequence(topology.center)

            // Three heartbeats at ttl / 3: each on every node within a second, none in the bucket.
            var last: [String: Any] = [:]
            for _ in 0..<3 {
                try await Task.sleep(for: .seconds(3))
                let (status, body) = try await Self.heartbeat(leaf1, "alice", admin)
                #expect(status == 200)
                #expect(body["revision"] as? Int == written["revision"] as? Int, "not a durable write")
                #expect(try Self.time(body, "updated_at") > Self.time(written, "updated_at"))
                last = body
                let moved = try await everywhere([topology.center, leaf2], "/api/v2/presence/alice", within: .seconds(1)) {
                    $0["updated_at"] as? String == body["updated_at"] as? String && $0["last_seen"] as? String == body["last_seen"] as? String
                }
                #expect(moved, "the heartbeat moved updated_at and last_seen on the center and the other leaf within 1 s")
            }
            #expect(try await Self.bucketLastSequence(topology.center) == before, "heartbeats add nothing to the bucket's stream")
            #expect(stream.presences.count == 1, "heartbeats send no event: \(stream.received)")
            #expect(try Self.counter(leaf1, "presence_heartbeats_accepted_total") == 3)
            #expect(try Self.counter(leaf2, "presence_heartbeats_applied_total") >= 3)
            #expect(try Self.counter(topology.center, "presence_heartbeat_batches_received_total") >= 3)

            // The heartbeats stop: offline at the last one + ttl on every node, with one event.
            let lastBeat = try Self.time(last, "updated_at")
            let deadline = lastBeat.adding(seconds: 10)
            try await Task.sleep(for: .milliseconds(max(0, deadline.millisecondsSinceEpoch - Timestamp.now().millisecondsSinceEpoch - 1_000)))
            let (_, stillOnline) = try await leaf2.get("/api/v2/presence/alice")
            #expect(stillOnline["status"] as? String == "online", "a second before the deadline")
            #expect(await stream.wait(timeout: .seconds(15)) { $0.presences.count == 2 })
            let arrived = Timestamp.now()
            let event = try #require(stream.presences.last)
            #expect(event["status"] as? String == "offline")
            #expect(arrived.millisecondsSinceEpoch <= deadline.millisecondsSinceEpoch + 1_500, "offline on the stream within ttl + 1.5 s")
            #expect(event["last_seen"] as? String == last["last_seen"] as? String, "last_seen is the last heartbeat's time")
            for node in nodes {
                let (_, read) = try await node.get("/api/v2/presence/alice")
                #expect(read["status"] as? String == "offline")
                #expect(read["last_seen"] as? String == last["last_seen"] as? String)
            }
            try await Task.sleep(for: .seconds(1))
            #expect(stream.presences.count == 2, "one offline event")
            #expect(try await Self.bucketLastSequence(topology.center) == before + 1, "the center persisted the transition once")

            // A node run as v0.2 did (durable heartbeats, for rolling upgrades) still works with the others.
            let durable = try topology.startLeaf(name: "leaf-v02", extraEnvironment: ["PRESENCE_PRESENCE_DURABLE_HEARTBEATS": "true"])
            try await durable.waitUntilReady()
            let (_, bob) = try await durable.put("bob", #"{"status":"busy","ttl":30}"#)
            try await Task.sleep(for: .milliseconds(20))
            let (beat, stored) = try await Self.heartbeat(durable, "bob", admin)
            #expect(beat == 200)
            #expect((stored["revision"] as? Int ?? 0) > (bob["revision"] as? Int ?? 0), "a durable heartbeat is a new revision")
            #expect(try await everywhere(nodes, "/api/v2/presence/bob", within: .seconds(2)) { $0["revision"] as? Int == stored["revision"] as? Int })

            // A forged batch: a time a day ahead counts as the receiver's present, an offline user
            // is not revived, and a message that is not a batch is refused and counted.
            let forger = try await NATSConnection.connect(options: .init(urls: [topology.center.natsClientURL], name: "forger"))
            let future = Timestamp.now().adding(seconds: 86_400)
            let forged = HeartbeatBatch(nodeID: "forger", heartbeats: [
                .init(user: try UserID(validating: "bob"), session: .defaultSession, time: future),
                .init(user: try UserID(validating: "alice"), session: .defaultSession, time: future),
            ])
            try await forger.publish(HeartbeatBatch.subject(bucket: "presence"), payload: forged.encoded())
            try await forger.publish(HeartbeatBatch.subject(bucket: "presence"), payload: Array("not a batch".utf8))
            await forger.close()
            #expect(try await everywhere([topology.center, leaf2], "/api/v2/presence/bob", within: .seconds(2)) { $0["node_id"] as? String == "forger" })
            for node in [topology.center, leaf2] {
                let (_, forgedBob) = try await node.get("/api/v2/presence/bob")
                #expect(try Self.time(forgedBob, "updated_at") <= Timestamp.now(), "never past the receiver's clock")
                let (_, aliceNow) = try await node.get("/api/v2/presence/alice")
                #expect(aliceNow["status"] as? String == "offline", "an offline user is not revived")
                #expect(try Self.counter(node, "presence_heartbeat_batches_refused_total") == 1)
            }
            for node in [durable, leaf2, leaf1] { await node.stop() }
            await topology.center.stop()
        }

        /// Heartbeats `users` through `node` every `interval` until `stop()`.
        final class Heartbeater: Sendable {
            private let stopped = NIOLockedValueBox(false)
            private let task: Task<[Int], any Error>

            init(_ users: [String], through node: ServiceProcess, every interval: Duration) {
                let stopped = self.stopped
                // A flag, not cancellation: FoundationNetworking's URLSession may never answer a
                // request whose task was cancelled.
                task = Task {
                    let admin = try await HeartbeatPlaneTests.adminHeaders()
                    var statuses: [Int] = []
                    while !stopped.withLockedValue({ $0 }) {
                        for user in users { statuses.append(try await HeartbeatPlaneTests.heartbeat(node, user, admin).0) }
                        try await Task.sleep(for: interval)
                    }
                    return statuses
                }
            }

            /// Stops and returns the answers' statuses.
            func stop() async throws -> [Int] {
                stopped.withLockedValue { $0 = true }
                return try await task.value
            }
        }

        /// Offline answers for `users` on `node` (one batch read).
        static func offline(_ users: [String], on node: ServiceProcess) async throws -> [String] {
            let (status, body) = try await node.get("/api/v2/presence?users=\(users.joined(separator: ","))")
            guard status == 200, let presences = body["presences"] as? [[String: Any]] else { return ["(read failed: \(status))"] }
            return presences.filter { $0["status"] as? String != "online" }.compactMap { $0["user_id"] as? String }
        }

        @Test func aLeafStartedWhileUsersHeartbeatShowsNoneOfThemOffline() async throws {
            let topology = try await Topology.startCenter(extraEnvironment: ["PRESENCE_PRESENCE_SWEEP_INTERVAL": "0.2"])
            let leaf1 = try topology.startLeaf(name: "leaf-1")
            try await leaf1.waitUntilReady()
            let users = (0..<20).map { "hb\($0)" }
            for user in users { #expect(try await leaf1.put(user, #"{"status":"online","ttl":10}"#).0 == 200) }
            let heartbeats = Heartbeater(users, through: leaf1, every: .seconds(3))
            // Long enough that every stored time is older than the TTL.
            try await Task.sleep(for: .seconds(12))

            let leaf2 = try topology.startLeaf(name: "leaf-late")
            try await leaf2.waitUntilReady()
            let stream = try SSEClient(port: leaf2.httpPort, path: "/api/v2/presence/stream?users=\(users.joined(separator: ","))")
            #expect(await stream.wait { $0.presences.count == users.count })
            var seenOffline: Set<String> = []
            let until = ContinuousClock.now + .seconds(12)
            while ContinuousClock.now < until {
                for node in [leaf2, topology.center, leaf1] { seenOffline.formUnion(try await Self.offline(users, on: node)) }
                try await Task.sleep(for: .milliseconds(250))
            }
            let statuses = try await heartbeats.stop()
            #expect(seenOffline.isEmpty, "read offline while heartbeating: \(seenOffline.sorted())")
            #expect(stream.presences.allSatisfy { $0["status"] as? String == "online" }, "\(stream.received)")
            #expect(statuses.allSatisfy { $0 == 200 } && statuses.count >= users.count * 7, "\(Set(statuses)) x\(statuses.count)")
            await leaf2.stop()
            await leaf1.stop()
            await topology.center.stop()
        }

        @Test func aCenterRestartUnderHeartbeatsExpiresNobodyWhoKeptHeartbeating() async throws {
            let centerDirectory = TemporaryDirectory.make()
            let sweep = ["PRESENCE_PRESENCE_SWEEP_INTERVAL": "0.2"]
            var topology = try await Topology.startRestartableCenter(dataDirectory: centerDirectory, extraEnvironment: sweep)
            let (leafnodePort, centerHTTP) = (topology.leafnodePort, topology.center.httpPort)
            let clientPort = try #require(topology.center.natsClientPort)
            let leaf = try topology.startLeaf(name: "leaf-1")
            try await leaf.waitUntilReady()
            let users = (0..<10).map { "stay\($0)" }
            for user in users { #expect(try await leaf.put(user, #"{"status":"online","ttl":15}"#).0 == 200) }
            let stream = try SSEClient(port: leaf.httpPort, path: "/api/v2/presence/stream?users=\(users.joined(separator: ","))")
            #expect(await stream.wait { $0.presences.count == users.count })
            let heartbeats = Heartbeater(users, through: leaf, every: .seconds(3))
            try await Task.sleep(for: .seconds(17))  // every stored time older than the TTL

            await topology.center.stop()
            topology = try await Topology.startCenter(
                dataDirectory: centerDirectory, leafnodePort: leafnodePort, clientPort: clientPort, httpPort: centerHTTP,
                extraEnvironment: sweep)
            try await leaf.waitUntilReady()
            var seenOffline: Set<String> = []
            let until = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < until {
                for node in [topology.center, leaf] { seenOffline.formUnion(try await Self.offline(users, on: node)) }
                try await Task.sleep(for: .milliseconds(250))
            }
            let statuses = try await heartbeats.stop()
            #expect(seenOffline.isEmpty, "read offline while heartbeating: \(seenOffline.sorted())")
            #expect(stream.presences.count == users.count, "no event for anyone: \(stream.received)")
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 503 }, "only 200, or 503 while the hub was away: \(Set(statuses))")
            #expect(statuses.suffix(users.count * 5).allSatisfy { $0 == 200 }, "heartbeats are taken again after the restart")
            await leaf.stop()
            await topology.center.stop()
        }

        @Test func aLeafCutFromTheHubRefusesHeartbeatsAndKeepsServingReads() async throws {
            let topology = try await Topology.startCenter()
            let leaf = try topology.startLeaf(name: "leaf-1")
            try await leaf.waitUntilReady()
            let admin = try await Self.adminHeaders()
            #expect(try await leaf.put("cut", #"{"status":"online","ttl":60}"#).0 == 200)
            try await Task.sleep(for: .milliseconds(5))
            #expect(try await Self.heartbeat(leaf, "cut", admin).0 == 200)

            await topology.center.stop()
            var answers: [Int] = []
            let deadline = ContinuousClock.now + .seconds(5)
            var refusal: [String: Any] = [:]
            while ContinuousClock.now < deadline {
                let (status, body) = try await Self.heartbeat(leaf, "cut", admin)
                answers.append(status)
                if status == 503 { refusal = body; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(answers.last == 503, "a heartbeat nobody else would hear is refused: \(answers)")
            #expect(Set(answers).isSubset(of: [200, 503]), "\(answers)")
            #expect((refusal["error"] as? [String: Any])?["code"] as? String == "unavailable")
            let (read, body) = try await leaf.get("/api/v2/presence/cut")
            #expect(read == 200 && body["status"] as? String == "online", "the leaf keeps its replica")
            await leaf.stop()
        }
    }
}
