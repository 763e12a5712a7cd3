import Foundation
import Testing
import PresenceCore
import PresenceNode

/// The audit trail (SPEC §3c) across real processes: a center and a leaf, changes made
/// through the leaf, read back with `GET /api/v2/audit` on either node; heartbeats leave no
/// entry; an append the stream cannot take leaves the write standing and counts a gap.
@Suite("Audit trail", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct AuditTrailTests {
    static func headers(_ subject: String = "root", scopes: [String] = ["presence:admin"], requestID: String? = nil)
        async throws -> [String: String]
    {
        var headers = ["Authorization": "Bearer \(try await TestNode.token(subject, scopes: scopes))"]
        if let requestID { headers["X-Request-ID"] = requestID }
        return headers
    }

    static func audit(_ node: ServiceProcess, _ query: String, headers: [String: String]) async throws -> (Int, [[String: Any]]) {
        let (status, body) = try await HTTP.request("GET", port: node.httpPort, path: "/api/v2/audit?\(query)", headers: headers)
        return (status, body["entries"] as? [[String: Any]] ?? [])
    }

    @Test func everyAcceptedChangeThroughALeafHasOneEntryWithWhoWhatAndWhere() async throws {
        let topology = try await Topology.startCenter()
        let leaf = try topology.startLeaf(name: "leaf-1")
        try await leaf.waitUntilReady()
        let alice = try await Self.headers("alice", scopes: [], requestID: "req-alice-1")
        let path = "/api/v2/presence/alice"
        var (status, _) = try await HTTP.request(
            "PUT", port: leaf.httpPort, path: path, headers: alice, body: #"{"status":"online","message":"at lunch"}"#)
        #expect(status == 200)
        (status, _) = try await HTTP.request("POST", port: leaf.httpPort, path: path + "/heartbeat", headers: alice)
        #expect(status == 200)
        (status, _) = try await HTTP.request(
            "PUT", port: leaf.httpPort, path: path, headers: alice, body: #"{"status":"invisible","message":"secret plan"}"#)
        #expect(status == 200)
        let admin = try await Self.headers(requestID: "req-admin-1")
        (status, _) = try await HTTP.request("DELETE", port: leaf.httpPort, path: path, headers: admin)
        #expect(status == 200 || status == 204)
        // Someone else's change is not alice's entry.
        (status, _) = try await HTTP.request(
            "PUT", port: leaf.httpPort, path: "/api/v2/presence/bob", headers: admin, body: #"{"status":"busy"}"#)
        #expect(status == 200)

        // Appends are not awaited by the write: poll until the three of alice are there.
        var entries: [[String: Any]] = []
        for _ in 0..<50 {
            (status, entries) = try await Self.audit(leaf, "user=alice", headers: admin)
            if entries.count >= 3 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == 200)
        try #require(entries.count == 3, "\(entries)")
        #expect(entries.map { $0["change"] as? String } == ["set", "set", "end_all"])
        #expect(entries.map { $0["status_before"] as? String } == ["none", "online", "invisible"])
        #expect(entries.map { $0["status_after"] as? String } == ["online", "invisible", "offline"])
        #expect(entries[0]["message"] as? String == "at lunch")
        #expect(entries[1]["message"] == nil, "an invisible user's message is not kept: \(entries[1])")
        #expect(entries[1]["message_changed"] as? Bool == true)
        #expect(entries.allSatisfy { $0["user"] as? String == "alice" && $0["node_id"] as? String == "leaf-1" })
        #expect((entries[0]["by"] as? [String: Any])?["sub"] as? String == "alice")
        #expect(entries[0]["request_id"] as? String == "req-alice-1")
        #expect((entries[2]["by"] as? [String: Any])?["scope"] as? String == "presence:admin")
        #expect(entries[2]["request_id"] as? String == "req-admin-1")
        #expect(entries[0]["session"] as? String == "default")
        let revisions = entries.compactMap { $0["revision"] as? Int }
        #expect(revisions == revisions.sorted() && Set(revisions).count == 3)

        // The same trail on the center; everyone's holds bob's too; since cuts; limit pages.
        let (centerStatus, onCenter) = try await Self.audit(topology.center, "user=alice", headers: admin)
        #expect(centerStatus == 200 && onCenter.count == 3)
        let (_, everyone) = try await Self.audit(topology.center, "", headers: admin)
        #expect(everyone.count == 4)
        let (_, page) = try await HTTP.request(
            "GET", port: topology.center.httpPort, path: "/api/v2/audit?limit=2", headers: admin)
        #expect((page["entries"] as? [Any])?.count == 2 && page["more"] as? Bool == true)
        let future = "2999-01-01T00:00:00Z"
        let (_, none) = try await Self.audit(topology.center, "since=\(future)", headers: admin)
        #expect(none.isEmpty)
        let (pastStatus, all) = try await Self.audit(topology.center, "since=1159-07-14T10:03:20Z", headers: admin)
        #expect(pastStatus == 200 && all.count == 4, "a time before 1970 reads from the first entry")

        // `presence audit` reads the same through the center's own NATS.
        let cli = try ServiceProcess(
            arguments: ["audit", "--user", "alice", "--since", "1h", "--data-dir", topology.center.dataDirectory],
            environment: ServiceProcess.testEnvironment(), dataDirectory: topology.center.dataDirectory, httpPort: 0)
        #expect(await cli.waitForExit() == 0, "\(cli.output)")
        let lines = cli.output.split(separator: "\n").filter { $0.contains(" alice") }
        #expect(lines.count == 3, "\(cli.output)")
        #expect(lines.first?.contains("alice/default set none→online message changed by sub=alice") == true, "\(cli.output)")
        #expect(lines.last?.contains("end_all invisible→offline") == true && lines.last?.contains("request=req-admin-1") == true)
        let badSince = try ServiceProcess(
            arguments: ["audit", "--since", "yesterday", "--data-dir", topology.center.dataDirectory],
            environment: ServiceProcess.testEnvironment(), dataDirectory: topology.center.dataDirectory, httpPort: 0)
        #expect(await badSince.waitForExit() == 2)

        // Admin only; bad queries are 400.
        let (forbidden, _) = try await Self.audit(leaf, "user=alice", headers: alice)
        #expect(forbidden == 403)
        let (anonymous, _) = try await Self.audit(leaf, "user=alice", headers: [:])
        #expect(anonymous == 401)
        for bad in ["since=yesterday", "limit=0", "limit=1001", "limit=x"] {
            let (code, _) = try await Self.audit(leaf, bad, headers: admin)
            #expect(code == 400, "\(bad)")
        }
        await leaf.stop()
        await topology.center.stop()
    }

    /// Entries wait up to 100 ms for their batch: a leaf stopped (SIGTERM) while four writers
    /// keep writing sends the entries of every write it answered before its NATS connection
    /// closes, so none is lost and none counted.
    @Test func aLeafStoppedWhileWritingLeavesNoEntryBehind() async throws {
        let topology = try await Topology.startCenter()
        let leaf = try topology.startLeaf(name: "leaf-1")
        try await leaf.waitUntilReady()
        let admin = try await Self.headers()
        let answered = Locked<[String]>([])
        let port = leaf.httpPort
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for index in 0..<10_000 {
                        let user = "w\(writer)-\(index)"
                        guard
                            let (status, _) = try? await HTTP.request(
                                "PUT", port: port, path: "/api/v2/presence/\(user)", headers: admin, body: #"{"status":"busy"}"#)
                        else { return }  // the leaf is gone
                        if status == 200 { answered.withLockedValue { $0.append(user) } }
                    }
                }
            }
            while answered.value.count < 200 { try await Task.sleep(for: .milliseconds(5)) }
            await leaf.stop()
            try await group.waitForAll()
        }
        #expect(leaf.process.terminationStatus == 0, "\(leaf.output.suffix(2000))")
        #expect(!leaf.output.contains("audit entries were lost"))
        // Read at once on the center, page by page (pages of 100 go on with `after`): the stop
        // waited for the stream's acknowledgements.
        var audited: [String] = []
        var query = "limit=100"
        for _ in 0..<1000 {
            let (status, page) = try await HTTP.request(
                "GET", port: topology.center.httpPort, path: "/api/v2/audit?\(query)", headers: admin)
            try #require(status == 200)
            audited += (page["entries"] as? [[String: Any]] ?? []).compactMap { $0["user"] as? String }
            guard page["more"] as? Bool == true, let next = page["next"] as? String else { break }
            query = "limit=100&after=\(next)"
        }
        #expect(audited.count == Set(audited).count, "no entry twice across pages")
        let missing = Set(answered.value).subtracting(Set(audited))
        #expect(missing.isEmpty, "\(missing.count) of \(answered.value.count) answered writes without an entry")
        // One user's entries from one shard's messages, next to other users' entries.
        let (_, one) = try await Self.audit(topology.center, "user=w1-7", headers: admin)
        #expect(one.count == 1 && one.first?["user"] as? String == "w1-7")
        await topology.center.stop()
    }

    /// A center that keeps no audit stream (`audit.enabled: false`) and a leaf that audits:
    /// the leaf's appends find no stream, its writes are still answered 200 and stored, and
    /// each lost entry is counted.
    @Test func anAppendTheStreamCannotTakeNeverFailsTheWrite() async throws {
        let topology = try await Topology.startCenter(extraEnvironment: ["PRESENCE_AUDIT_ENABLED": "false"])
        // A lost append is tried again for presence.write_failover_wait: 1 s here.
        let leaf = try topology.startLeaf(name: "leaf-1", extraEnvironment: ["PRESENCE_PRESENCE_WRITE_FAILOVER_WAIT": "1"])
        try await leaf.waitUntilReady()
        let admin = try await Self.headers()
        for index in 0..<5 {
            let (status, _) = try await HTTP.request(
                "PUT", port: leaf.httpPort, path: "/api/v2/presence/u\(index)", headers: admin, body: #"{"status":"away"}"#)
            #expect(status == 200)
        }
        for index in 0..<5 {
            let (status, body) = try await topology.center.get("/api/v2/presence/u\(index)")
            #expect(status == 200 && body["status"] as? String == "away")
        }
        var gaps = 0.0
        for _ in 0..<50 {
            gaps = try HeavyProcessSuites.HeartbeatPlaneTests.counter(leaf, "presence_audit_gaps_total")
            if gaps >= 5 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(gaps == 5)
        #expect(leaf.output.contains("audit entries were lost"))
        let (status, _) = try await Self.audit(leaf, "user=u1", headers: admin)
        #expect(status == 503)
        await leaf.stop()
        await topology.center.stop()
    }
}

/// `presence audit --since`: a duration back from now or an RFC 3339 time.
@Suite("presence audit --since")
struct AuditSinceTests {
    @Test func durationsCountBackFromNowAndTimesAreTakenAsGiven() throws {
        let now = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)
        func back(_ milliseconds: Int64) -> Timestamp { Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch - milliseconds) }
        #expect(AuditTrailReader.since("90s", now: now) == back(90_000))
        #expect(AuditTrailReader.since("1h", now: now) == back(3_600_000))
        #expect(AuditTrailReader.since("7d", now: now) == back(604_800_000))
        #expect(AuditTrailReader.since("2026-12-01T00:00:00Z", now: now) == RFC3339.parse("2026-12-01T00:00:00Z"))
        for bad in ["", "h", "1w", "-1h", "yesterday", "99999999999999999d"] {
            #expect(AuditTrailReader.since(bad, now: now) == nil, "\(bad)")
        }
    }
}
