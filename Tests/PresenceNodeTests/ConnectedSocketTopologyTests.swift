import Foundation
import PresenceTestSupport
import Testing

extension HeavyProcessSuites {
    /// Connected sockets (SPEC §3b) across real processes, a center and two leaves: a socket's
    /// session is seen on the other leaf, kept alive by pongs past its ttl, and ended on every
    /// node by a close frame, by silence, by a drop not taken over within the grace, by the
    /// leaf draining, and by expiry when the leaf dies. A reconnect to the other leaf within
    /// the grace shows no offline at all. Among the heavy suites: its bounds are seconds.
    @Suite("Connected sockets across nodes", .serialized, .temporaryFiles, .timeLimit(.minutes(5)))
    struct ConnectedSocketTopologyTests {
        /// Ping every second, pong within one more, grace one second: the session's ttl is 10 s.
        static let fast = ConnectedSocketTests.fast.merging(["PRESENCE_PRESENCE_SWEEP_INTERVAL": "0.2"]) { $1 }

        struct Nodes {
            let topology: Topology
            let leaf1: ServiceProcess
            let leaf2: ServiceProcess
            var all: [ServiceProcess] { [topology.center, leaf1, leaf2] }
        }

        static func start() async throws -> Nodes {
            let topology = try await Topology.startCenter(extraEnvironment: fast)
            let leaf1 = try topology.startLeaf(name: "leaf-1", extraEnvironment: fast)
            let leaf2 = try topology.startLeaf(name: "leaf-2", extraEnvironment: fast)
            try await leaf1.waitUntilReady()
            try await leaf2.waitUntilReady()
            return Nodes(topology: topology, leaf1: leaf1, leaf2: leaf2)
        }

        /// A socket on `node` subscribed to `users`, with its snapshot received.
        static func watcher(on node: ServiceProcess, _ users: [String]) async throws -> TestSocket {
            let socket = try await TestSocket.connect(port: node.httpPort)
            _ = try #require(try await socket.hello(token: try await TestNode.token("watcher")))
            try await socket.send(json: ["id": 1, "type": "subscribe", "users": users])
            _ = try #require(try await socket.reply(to: 1))
            return socket
        }

        /// The statuses of `user` the watcher was sent, in order.
        static func statuses(_ watcher: TestSocket, _ user: String) -> [String] {
            watcher.messages.compactMap { message in
                guard let presence = message["presence"] as? [String: Any], presence["user_id"] as? String == user,
                    message["type"] as? String == "presence"
                else { return nil }
                return presence["status"] as? String
            }
        }

        /// Waits until the watcher was told `user` is `status`: how long that took, nil if never.
        static func told(_ watcher: TestSocket, _ user: String, _ status: String, within timeout: Duration = .seconds(10))
            async throws -> Duration?
        {
            let started = ContinuousClock.now
            let found = try await watcher.message(within: timeout) { message in
                let presence = message["presence"] as? [String: Any]
                return presence?["user_id"] as? String == user && presence?["status"] as? String == status
            }
            return found == nil ? nil : ContinuousClock.now - started
        }

        @Test func aCleanCloseASilentPeerAndADropEachEndTheSessionOnTheOtherLeaf() async throws {
            let nodes = try await Self.start()
            let watcher = try await Self.watcher(on: nodes.leaf2, ["closer", "silent", "dropper"])

            let closer = try await TestSocket.connect(port: nodes.leaf1.httpPort)
            _ = try #require(try await closer.hello(token: try await TestNode.token("closer")))
            #expect(try await Self.told(watcher, "closer", "online") != nil)
            try await closer.close()
            let closeTook = try await Self.told(watcher, "closer", "offline")
            #expect(closeTook != nil && closeTook! < .seconds(1), "a close frame: offline on the other leaf at once (\(String(describing: closeTook)))")

            let silent = try await TestSocket.connect(port: nodes.leaf1.httpPort)
            _ = try #require(try await silent.hello(token: try await TestNode.token("silent")))
            #expect(try await Self.told(watcher, "silent", "online") != nil)
            silent.goSilent()
            let silenceTook = try await Self.told(watcher, "silent", "offline")
            #expect(
                silenceTook != nil && silenceTook! < .seconds(4),
                "ping interval + pong timeout + 1 s: \(String(describing: silenceTook))")
            #expect(try await silent.closed().code == 4408)

            let dropper = try await TestSocket.connect(port: nodes.leaf1.httpPort)
            _ = try #require(try await dropper.hello(token: try await TestNode.token("dropper")))
            #expect(try await Self.told(watcher, "dropper", "online") != nil)
            await dropper.drop()
            let dropTook = try await Self.told(watcher, "dropper", "offline")
            #expect(dropTook != nil && dropTook! >= .milliseconds(900) && dropTook! < .seconds(3), "after the 1 s grace: \(String(describing: dropTook))")
        }

        @Test func aReconnectToTheOtherLeafWithinTheGraceShowsNoOfflineAndPongsKeepTheSessionPastItsTTL() async throws {
            let nodes = try await Self.start()
            let watcher = try await Self.watcher(on: nodes.topology.center, ["alice"])
            let token = try await TestNode.token("alice")
            let first = try await TestSocket.connect(port: nodes.leaf1.httpPort)
            _ = try #require(try await first.hello(token: token, session: "phone", extra: ["status": "busy", "message": "driving"]))
            #expect(try await Self.told(watcher, "alice", "busy") != nil)

            await first.drop()
            let second = try await TestSocket.connect(port: nodes.leaf2.httpPort)
            let welcome = try #require(try await second.hello(token: token, session: "phone"))
            #expect((welcome["presence"] as? [String: Any])?["message"] as? String == "driving", "taken over as it was")

            // 12 s: past the session's 10 s ttl, kept by pongs on the heartbeat plane.
            try await Task.sleep(for: .seconds(12))
            #expect(!Self.statuses(watcher, "alice").contains("offline"), "no flapping: \(Self.statuses(watcher, "alice"))")
            #expect(try await everywhere(nodes.all, "/api/v2/presence/alice", within: .seconds(1)) { $0["status"] as? String == "busy" })
        }

        @Test func aDrainingLeafEndsItsSessionsAndAKilledOneLetsThemExpire() async throws {
            let nodes = try await Self.start()
            let watcher = try await Self.watcher(on: nodes.leaf2, ["drained", "killed"])
            let drained = try await TestSocket.connect(port: nodes.leaf1.httpPort)
            _ = try #require(try await drained.hello(token: try await TestNode.token("drained")))
            #expect(try await Self.told(watcher, "drained", "online") != nil)
            await nodes.leaf1.stop()
            #expect(try await drained.closed().code == 1001, "told the node is going away")
            #expect(try await Self.told(watcher, "drained", "offline") != nil, "its session ended before the node stopped")

            let leaf3 = try nodes.topology.startLeaf(name: "leaf-3", extraEnvironment: Self.fast)
            try await leaf3.waitUntilReady()
            let killed = try await TestSocket.connect(port: leaf3.httpPort)
            _ = try #require(try await killed.hello(token: try await TestNode.token("killed")))
            #expect(try await Self.told(watcher, "killed", "online") != nil)
            let killedAt = ContinuousClock.now
            let orphan = leaf3.natsServerPID
            leaf3.signal(SIGKILL)
            // Its embedded nats-server has nobody to stop it now.
            defer { if let orphan { kill(orphan, SIGKILL) } }
            #expect(try await Self.told(watcher, "killed", "offline", within: .seconds(20)) != nil)
            let took = ContinuousClock.now - killedAt
            #expect(took < .seconds(13), "by expiry: ttl 10 s after the last pong, + 1.5 s (\(took))")
        }

        @Test func aTakeoverOnTheOtherLeafBeforeTheDropIsSeenShowsNoOffline() async throws {
            let nodes = try await Self.start()
            let watcher = try await Self.watcher(on: nodes.topology.center, ["bob"])
            let token = try await TestNode.token("bob")
            let old = try await TestSocket.connect(port: nodes.leaf1.httpPort)
            _ = try #require(try await old.hello(token: token, session: "phone", extra: ["status": "away"]))
            #expect(try await Self.told(watcher, "bob", "away") != nil)
            // A network switch as it happens: the new connection says hello first, the old
            // node learns of the drop only afterwards.
            let new = try await TestSocket.connect(port: nodes.leaf2.httpPort)
            _ = try #require(try await new.hello(token: token, session: "phone"))
            try await Task.sleep(for: .milliseconds(300))
            await old.drop()
            try await Task.sleep(for: .seconds(4))
            #expect(!Self.statuses(watcher, "bob").contains("offline"), "no flapping: \(Self.statuses(watcher, "bob"))")
            #expect(!new.received.closed, "the new socket lives: \(new.received)")
            #expect(try await everywhere(nodes.all, "/api/v2/presence/bob", within: .seconds(1)) { $0["status"] as? String == "away" })
        }

        @Test func aDrainingLeafEndsTheSessionsStillInTheirGrace() async throws {
            let slowGrace = ["PRESENCE_PRESENCE_RECONNECT_GRACE": "60"]
            let topology = try await Topology.startCenter(extraEnvironment: Self.fast)
            let leaf1 = try topology.startLeaf(name: "leaf-1", extraEnvironment: Self.fast.merging(slowGrace) { $1 })
            let leaf2 = try topology.startLeaf(name: "leaf-2", extraEnvironment: Self.fast)
            try await leaf1.waitUntilReady()
            try await leaf2.waitUntilReady()
            let watcher = try await Self.watcher(on: leaf2, ["carol"])
            let carol = try await TestSocket.connect(port: leaf1.httpPort)
            _ = try #require(try await carol.hello(token: try await TestNode.token("carol")))
            #expect(try await Self.told(watcher, "carol", "online") != nil)
            await carol.drop()
            try await Task.sleep(for: .milliseconds(500))
            #expect(!Self.statuses(watcher, "carol").contains("offline"), "waiting out its 60 s grace")
            let stopped = ContinuousClock.now
            await leaf1.stop()
            let took = try await Self.told(watcher, "carol", "offline", within: .seconds(8))
            #expect(took != nil, "the drain ended the session in its grace")
            #expect(ContinuousClock.now - stopped < .seconds(8))
        }
    }
}
