import Foundation
import NATSClient
import PresenceCore
import Testing

/// Sessions and invisible (SPEC §2, §3) across real processes: a center and two leaves.
@Suite("Sessions across nodes", .serialized, .temporaryFiles, .timeLimit(.minutes(5)))
struct SessionTopologyTests {
    /// A request with `user`'s own token.
    private func send(
        _ method: String, _ node: ServiceProcess, _ path: String, as user: String = "alice", body: String? = nil,
        scopes: [String] = []
    ) async throws -> (Int, [String: Any]) {
        let token = try await TestNode.token(user, scopes: scopes)
        return try await HTTP.request(
            method, port: node.httpPort, path: path, headers: ["Authorization": "Bearer \(token)"], body: body)
    }

    /// Raw `GET` with `If-None-Match`: the status line.
    private func conditionalGet(_ node: ServiceProcess, _ path: String, etag: String) throws -> String {
        let response = try RawHTTP.send(
            "GET \(path) HTTP/1.1\r\nHost: x\r\nIf-None-Match: \(etag)\r\nConnection: close\r\n\r\n", port: node.httpPort)
        return response.components(separatedBy: "\r\n").first ?? ""
    }

    @Test func twoDevicesOnTwoLeavesCombineExpireAndSignOut() async throws {
        let topology = try await Topology.startCenter(extraEnvironment: ["PRESENCE_PRESENCE_SWEEP_INTERVAL": "0.2"])
        let leaf1 = try topology.startLeaf(name: "leaf-1")
        let leaf2 = try topology.startLeaf(name: "leaf-2")
        try await leaf1.waitUntilReady()
        try await leaf2.waitUntilReady()
        let nodes = [topology.center, leaf1, leaf2]

        let (desktop, _) = try await send(
            "PUT", leaf1, "/api/v2/presence/alice/sessions/desktop", body: #"{"status":"online","ttl":10}"#)
        #expect(desktop == 200)
        let stream = try SSEClient(port: leaf2.httpPort, path: "/api/v2/presence/stream?users=alice")
        #expect(await stream.wait { $0.presences.count == 1 })
        #expect(stream.received.contains("retry: 2000\n\n"), "the stream starts with retry: 2000")
        let (phone, combined) = try await send(
            "PUT", leaf2, "/api/v2/presence/alice/sessions/phone", body: #"{"status":"away","message":"on the go","device":"iPhone"}"#)
        #expect(phone == 200)
        #expect(combined["status"] as? String == "online")
        #expect(combined["sessions"] as? Int == 2)
        #expect(try await everywhere(nodes, "/api/v2/presence/alice") { $0["status"] as? String == "online" && $0["sessions"] as? Int == 2 })
        #expect(await stream.wait { $0.presences.count == 2 }, "the message changed: one event")

        // Heartbeats change nothing a reader sees: no event.
        for _ in 0..<3 {
            let (beat, _) = try await send("POST", leaf1, "/api/v2/presence/alice/sessions/desktop/heartbeat")
            #expect(beat == 200)
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(stream.presences.count == 2, "heartbeats must not send events: \(stream.received)")

        // The phone signs out: still online.
        let (ended, afterPhone) = try await send("DELETE", leaf2, "/api/v2/presence/alice/sessions/phone")
        #expect(ended == 200)
        #expect(afterPhone["status"] as? String == "online" && afterPhone["sessions"] as? Int == 1)
        let (again, _) = try await send("DELETE", leaf2, "/api/v2/presence/alice/sessions/phone")
        #expect(again == 404)
        let (list, withSessions) = try await send("GET", leaf1, "/api/v2/presence/alice?include=sessions")
        #expect(list == 200)
        #expect((withSessions["session_list"] as? [[String: Any]])?.map { $0["session_id"] as? String } == ["desktop"])

        // The phone comes back away with a long TTL; the desktop's session expires: away everywhere.
        _ = try await send("PUT", leaf2, "/api/v2/presence/alice/sessions/phone", body: #"{"status":"away","ttl":600}"#)
        #expect(
            try await everywhere(nodes, "/api/v2/presence/alice", within: .seconds(20)) { $0["status"] as? String == "away" })
        #expect(await stream.wait(timeout: .seconds(20)) { $0.presences.last?["status"] as? String == "away" })

        // Sign out everywhere.
        let (signedOut, offline) = try await send("DELETE", leaf1, "/api/v2/presence/alice")
        #expect(signedOut == 200)
        #expect(offline["status"] as? String == "offline" && offline["sessions"] as? Int == 0)
        #expect(try await everywhere(nodes, "/api/v2/presence/alice") { $0["status"] as? String == "offline" })
        let (_, none) = try await send("GET", topology.center, "/api/v2/presence/alice?include=sessions")
        #expect((none["session_list"] as? [Any])?.isEmpty == true)
        await leaf1.stop()
        await leaf2.stop()
        await topology.center.stop()
    }

    @Test func observersOfAnInvisibleUserSeeNothingChange() async throws {
        let topology = try await Topology.startCenter()
        let leaf = try topology.startLeaf(name: "leaf-obs")
        try await leaf.waitUntilReady()
        _ = try await send("PUT", leaf, "/api/v2/presence/ivy/sessions/desktop", as: "ivy", body: #"{"status":"online","message":"hi"}"#)
        let (_, hidden) = try await send("PUT", leaf, "/api/v2/presence/ivy/sessions/phone", as: "ivy", body: #"{"status":"invisible"}"#)
        #expect(hidden["status"] as? String == "invisible", "the user's own answer shows the real state")
        #expect(try await everywhere([leaf, topology.center], "/api/v2/presence/ivy") { $0["status"] as? String == "offline" })
        let (_, frozen) = try await leaf.get("/api/v2/presence/ivy")
        #expect(frozen["message"] as? String == "" && frozen["sessions"] as? Int == 0)
        let etag = "\"\(try #require(frozen["revision"] as? Int))\""
        let stream = try SSEClient(port: leaf.httpPort, path: "/api/v2/presence/stream?users=ivy")
        #expect(await stream.wait { $0.presences.count == 1 })

        let steps: [(String, String, String?)] = [
            ("POST", "/api/v2/presence/ivy/sessions/phone/heartbeat", nil),
            ("PUT", "/api/v2/presence/ivy/sessions/phone", #"{"status":"invisible","message":"secret"}"#),
            ("PUT", "/api/v2/presence/ivy/sessions/tablet", #"{"status":"busy"}"#),
            ("POST", "/api/v2/presence/ivy/sessions/desktop/heartbeat", nil),
            ("DELETE", "/api/v2/presence/ivy/sessions/tablet", nil),
            ("PUT", "/api/v2/presence/ivy", #"{"status":"away","message":"classic"}"#),
        ]
        for (method, path, body) in steps {
            let (status, own) = try await send(method, leaf, path, as: "ivy", body: body)
            #expect(status == 200, "\(method) \(path)")
            // The leaf's replica has the write (its own acknowledged writes go in at once).
            let (_, mine) = try await send("GET", leaf, "/api/v2/presence/ivy", as: "ivy")
            #expect(mine["revision"] as? Int == own["revision"] as? Int)
            #expect(try conditionalGet(leaf, "/api/v2/presence/ivy", etag: etag) == "HTTP/1.1 304 Not Modified", "\(path)")
            let (_, seen) = try await topology.center.get("/api/v2/presence/ivy")
            #expect(NSDictionary(dictionary: seen).isEqual(to: frozen), "\(path): \(seen)")
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(stream.presences.count == 1, "no event while invisible: \(stream.received)")
        let (_, mine) = try await send("GET", leaf, "/api/v2/presence/ivy?include=sessions", as: "ivy")
        #expect(mine["status"] as? String == "invisible")
        #expect((mine["session_list"] as? [Any])?.count == 3)
        let (other, _) = try await send("GET", leaf, "/api/v2/presence/ivy?include=sessions", as: "mallory")
        #expect(other == 403)
        let (anonymous, _) = try await leaf.get("/api/v2/presence/ivy?include=sessions")
        #expect(anonymous == 401)

        // Visible again: one event, with the desktop's status and the latest message.
        _ = try await send("DELETE", leaf, "/api/v2/presence/ivy/sessions/phone", as: "ivy")
        #expect(await stream.wait { $0.presences.count == 2 })
        #expect(stream.presences.last?["status"] as? String == "online")
        #expect(stream.presences.last?["message"] as? String == "classic")
        await leaf.stop()
        await topology.center.stop()
    }

    @Test func aReconnectWithLastEventIDGetsOnlyWhatChanged() async throws {
        let topology = try await Topology.startCenter()
        let center = topology.center
        var revisions: [String: Int] = [:]
        for user in ["r1", "r2", "r3"] {
            let (_, body) = try await center.put(user, #"{"status":"online"}"#)
            revisions[user] = body["revision"] as? Int
        }
        _ = try await center.put("r1", #"{"status":"busy"}"#)
        let resume = try #require(revisions["r2"])
        let stream = try SSEClient(
            port: center.httpPort, path: "/api/v2/presence/stream?users=r1,r2,r3", headers: ["Last-Event-ID": String(resume)])
        #expect(await stream.wait { $0.presences.count == 2 })
        try await Task.sleep(for: .milliseconds(200))
        #expect(stream.presences.compactMap { $0["user_id"] as? String } == ["r3", "r1"], "revision order, only above \(resume)")
        #expect(stream.events.compactMap(\.id).compactMap(Int.init).allSatisfy { $0 > resume })
        await center.stop()
    }

    @Test func aRecordInTheOldSingleRecordFormReadsAsSessionDefault() async throws {
        let topology = try await Topology.startCenter()
        let center = topology.center
        _ = try await center.put("seed", #"{"status":"online"}"#)  // the bucket exists
        let connection = try await NATSConnection.connect(options: .init(urls: [center.natsClientURL], name: "v01-writer"))
        let bucket = try await connection.jetStream(domain: nil, timeout: .seconds(2)).keyValue(.init(bucket: "presence"))
        let old = #"{"user_id":"oldie","status":"busy","message":"from v0.1","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2099-11-21T10:00:00.000Z","node_id":"v01","ttl":300}"#
        _ = try await bucket.put(UserKeyCodec.key(for: try UserID(validating: "oldie")), value: Array(old.utf8), expecting: .noValue)
        #expect(try await everywhere([center], "/api/v2/presence/oldie") { $0["status"] as? String == "busy" && $0["sessions"] as? Int == 1 })
        let (_, mine) = try await send("GET", center, "/api/v2/presence/oldie?include=sessions", as: "oldie")
        let sessions = try #require(mine["session_list"] as? [[String: Any]])
        #expect(sessions.count == 1 && sessions[0]["session_id"] as? String == "default")
        #expect(sessions[0]["message"] as? String == "from v0.1")
        let (_, both) = try await send(
            "PUT", center, "/api/v2/presence/oldie/sessions/phone", as: "oldie", body: #"{"status":"online"}"#)
        #expect(both["sessions"] as? Int == 2 && both["status"] as? String == "busy")
        await center.stop()
    }

    @Test func aDroppedUserReads404OnALeafAndALeafCanCreateItAgain() async throws {
        let topology = try await Topology.startCenter()
        let leaf = try topology.startLeaf(name: "leaf-drop")
        try await leaf.waitUntilReady()
        let (_, written) = try await send("PUT", leaf, "/api/v2/presence/gone", as: "gone", body: #"{"status":"online"}"#)
        let revision = UInt64(try #require(written["revision"] as? Int))
        // What the center's sweeper does after the retention period: a compare-and-set delete.
        let connection = try await NATSConnection.connect(options: .init(urls: [topology.center.natsClientURL], name: "retention"))
        let bucket = try await connection.jetStream(domain: nil, timeout: .seconds(2)).keyValue(.init(bucket: "presence"))
        let key = UserKeyCodec.key(for: try UserID(validating: "gone"))
        await #expect(throws: NATSError.self) { _ = try await bucket.delete(key, expectingRevision: revision + 5) }
        _ = try await bucket.delete(key, expectingRevision: revision)
        let deadline = ContinuousClock.now + .seconds(10)
        var status = 0
        while ContinuousClock.now < deadline {
            status = try await leaf.get("/api/v2/presence/gone").0
            if status == 404 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(status == 404, "the leaf's watcher applied the delete marker")
        // Through the leaf's restricted credential: a first write over the marker.
        let (again, back) = try await send("PUT", leaf, "/api/v2/presence/gone", as: "gone", body: #"{"status":"away"}"#)
        #expect(again == 200)
        #expect(back["status"] as? String == "away")
        #expect(try await everywhere([leaf, topology.center], "/api/v2/presence/gone") { $0["status"] as? String == "away" })
        await leaf.stop()
        await topology.center.stop()
    }
}
