import Foundation
import Testing

/// A leaf credential in hostile hands (SPEC §5): it may not read other nodes' inboxes, and so
/// cannot learn, and delete, another node's watcher consumer. The attacker is a stock
/// nats-server joining the center as a leaf with a genuine leaf credential, and a client of it
/// that subscribes to every inbox it can and deletes every consumer whose name it sees.
@Suite("Leaf inboxes", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct LeafInboxIsolationTests {
    /// What the attacker saw and did.
    struct Attack {
        var messages: [RawNATSClient.Message]
        var consumersDeleted: [String]
    }

    /// Runs the attack through `rogue` (a foreign leaf's client port) while the center's and
    /// `victim`'s records change, then checks the victim stays ready and keeps receiving changes.
    static func attack(
        center: ServiceProcess, victim: ServiceProcess, roguePort: Int, subscribing subjects: [String]
    ) async throws -> Attack {
        let eavesdropper = try RawNATSClient(port: roguePort, subscribing: subjects)
        defer { eavesdropper.close() }
        try await Task.sleep(for: .milliseconds(500))  // the interest reaches the center
        // Traffic of every kind: writes through the center and through the victim leaf, whose
        // watcher gets each change delivered on its inbox.
        for index in 0..<5 {
            _ = try await center.put("ctr\(index)", #"{"status":"online"}"#)
            _ = try await victim.put("vic\(index)", #"{"status":"busy"}"#)
        }
        try await Task.sleep(for: .milliseconds(500))
        let messages = eavesdropper.messages
        // A delivered message's reply subject names its consumer: $JS.ACK[.<domain>.<account>].KV_presence.<consumer>....
        var consumers: Set<String> = []
        for message in messages {
            let tokens = (message.reply ?? "").split(separator: ".").map(String.init)
            if tokens.starts(with: ["$JS", "ACK"]), let stream = tokens.firstIndex(of: "KV_presence"), stream + 1 < tokens.count {
                consumers.insert(tokens[stream + 1])
            }
        }
        for consumer in consumers {
            eavesdropper.publish("$JS.hub.API.CONSUMER.DELETE.KV_presence.\(consumer)", reply: "_INBOX.rogue.delete")
        }
        try await Task.sleep(for: .milliseconds(300))
        return Attack(messages: messages, consumersDeleted: consumers.sorted())
    }

    /// Whether `victim` stays ready and sees a change written on the center within 1 s, three times.
    static func victimKeepsUp(center: ServiceProcess, victim: ServiceProcess) async throws -> Bool {
        for round in 0..<3 {
            let (status, _) = try await center.put("after", #"{"status":"online","message":"round \#(round)"}"#)
            guard status == 200 else { return false }
            let deadline = ContinuousClock.now + .seconds(1)
            var seen = false
            while !seen, ContinuousClock.now < deadline {
                let (_, body) = try await victim.get("/api/v2/presence/after")
                seen = body["message"] as? String == "round \(round)"
                if !seen { try await Task.sleep(for: .milliseconds(25)) }
            }
            let (ready, _) = try await victim.get("/health/ready")
            guard seen, ready == 200 else { return false }
            try await Task.sleep(for: .milliseconds(700))
        }
        return true
    }

    /// Waits until the center lists `count` leaves (nats-server 2.9 does not report their names).
    static func waitForLeaves(_ count: Int, on center: ServiceProcess) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let (_, info) = try await center.get("/health/info")
            if (info["leafnodes"] as? [[String: Any]])?.count == count { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func aStolenSharedLeafCredentialSeesNoReplyOnINBOXAndCannotStallTheGenuineLeaf() async throws {
        // One credential shared by every leaf, stolen by the attacker.
        let credentials = ["PRESENCE_NATS_LEAF_USER": "leafy", "PRESENCE_NATS_LEAF_PASSWORD": "s3cret-pass"]
        let topology = try await Topology.startCenter(extraEnvironment: credentials)
        let victim = try topology.startLeaf(name: "victim", extraEnvironment: credentials)
        try await victim.waitUntilReady()
        let rogue = try PlainNATSServer.foreignLeaf(
            of: "nats-leaf://127.0.0.1:\(topology.leafnodePort)", credential: ("leafy", "s3cret-pass"))
        defer { rogue.stop() }
        let roguePort = try await rogue.assignedPort()
        #expect(try await Self.waitForLeaves(2, on: topology.center), "the credential admits the foreign leaf")

        let attack = try await Self.attack(
            center: topology.center, victim: victim, roguePort: roguePort, subscribing: ["_INBOX.>"])
        #expect(attack.messages.isEmpty, "the attacker saw inbox traffic: \(attack.messages.prefix(5))")
        #expect(attack.consumersDeleted.isEmpty, "the attacker learnt consumers: \(attack.consumersDeleted)")
        #expect(try await Self.victimKeepsUp(center: topology.center, victim: victim), "the victim leaf went stale")
        await victim.stop()
        await topology.center.stop()
    }

    @Test func aLeafWithItsOwnCredentialCannotSeeOrDeleteAnotherLeafsWatcher() async throws {
        let center = [
            "PRESENCE_NATS_LEAF_USER": "victim", "PRESENCE_NATS_LEAF_PASSWORD": "victim-pass",
            "PRESENCE_NATS_LEAF_CREDENTIALS": "other:other-pass",
        ]
        let topology = try await Topology.startCenter(extraEnvironment: center)
        let victim = try topology.startLeaf(
            name: "victim", extraEnvironment: ["PRESENCE_NATS_LEAF_USER": "victim", "PRESENCE_NATS_LEAF_PASSWORD": "victim-pass"])
        try await victim.waitUntilReady()
        // The other leaf's genuine credential, in hostile hands.
        let rogue = try PlainNATSServer.foreignLeaf(
            of: "nats-leaf://127.0.0.1:\(topology.leafnodePort)", credential: ("other", "other-pass"))
        defer { rogue.stop() }
        let roguePort = try await rogue.assignedPort()
        #expect(try await Self.waitForLeaves(2, on: topology.center), "the other leaf's credential admits it")

        let attack = try await Self.attack(
            center: topology.center, victim: victim, roguePort: roguePort,
            subscribing: ["_INBOX.>", "_INBOX_LEAF.>", "_INBOX_LEAF.victim.>", "_INBOX_LEAF.*.>"])
        #expect(attack.messages.isEmpty, "the attacker saw inbox traffic: \(attack.messages.prefix(5))")
        #expect(attack.consumersDeleted.isEmpty, "the attacker learnt consumers: \(attack.consumersDeleted)")
        #expect(try await Self.victimKeepsUp(center: topology.center, victim: victim), "the victim leaf went stale")
        await victim.stop()
        await topology.center.stop()
    }
}
