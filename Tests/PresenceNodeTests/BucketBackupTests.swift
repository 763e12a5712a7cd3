import Foundation
import Testing

/// `presence backup` and `presence restore` (issue 27): online, through the running center;
/// backup → wipe → restore brings every record back, a second restore writes nothing, and
/// what cannot be done says so in one line.
@Suite(.serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct BucketBackupTests {
    private func run(_ arguments: [String], dataDirectory: String) async throws -> (status: Int32?, output: String) {
        let process = try ServiceProcess(
            arguments: arguments, environment: ServiceProcess.testEnvironment(), dataDirectory: dataDirectory, httpPort: 0)
        let status = await process.waitForExit(timeout: .seconds(30))
        return (status, process.output)
    }

    /// The node's whole audit trail, each entry as its JSON text.
    private func auditTrail(_ node: ServiceProcess) async throws -> [String] {
        let headers = ["Authorization": "Bearer \(try await TestNode.token("root", scopes: ["presence:admin"]))"]
        for _ in 0..<50 {
            let (status, body) = try await HTTP.request("GET", port: node.httpPort, path: "/api/v2/audit?limit=1000", headers: headers)
            if status == 200, let entries = body["entries"] as? [[String: Any]], entries.count >= 40 {
                return try entries.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: .sortedKeys), as: UTF8.self) }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return []
    }

    @Test func backupWipeRestoreBringsEveryRecordBack() async throws {
        let data = TemporaryDirectory.make()
        let backup = TemporaryDirectory.make() + "/backup"
        var center = try ServiceProcess.serve(dataDirectory: data)
        try await center.waitUntilReady()
        let users = (0..<40).map { "user-\($0)" }
        var before: [String: [String: Any]] = [:]
        for (index, user) in users.enumerated() {
            let status = ["online", "away", "busy"][index % 3]
            let (code, _) = try await HTTP.request(
                "PUT", port: center.httpPort, path: "/api/v2/presence/\(user)",
                headers: ["Authorization": "Bearer \(try await TestNode.token(user))", "Content-Type": "application/json"],
                body: #"{"status":"\#(status)","message":"note \#(index)","ttl":3600}"#)
            #expect(code == 200)
        }
        for user in users {
            let (code, body) = try await HTTP.request("GET", port: center.httpPort, path: "/api/v2/presence/\(user)")
            #expect(code == 200)
            before[user] = body
        }

        let backedUp = try await run(["backup", backup, "--data-dir", data], dataDirectory: data)
        #expect(backedUp.status == 0, "\(backedUp.output)")
        #expect(backedUp.output.contains("backed up 40 records"), "\(backedUp.output)")
        #expect(backedUp.output.contains("and 40 audit entries"), "\(backedUp.output)")
        let auditBefore = try await auditTrail(center)
        #expect(auditBefore.count == 40)
        let mode = try FileManager.default.attributesOfItem(atPath: backup + "/presence-bucket.json")[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // Wipe: the center stops and its data directory goes; a new center starts empty there.
        center.signal(SIGTERM)
        #expect(await center.waitForExit() == 0)
        try FileManager.default.removeItem(atPath: data)
        center = try ServiceProcess.serve(dataDirectory: data)
        try await center.waitUntilReady()
        #expect(try await HTTP.request("GET", port: center.httpPort, path: "/api/v2/presence/user-0").0 == 404)

        let restored = try await run(["restore", backup, "--data-dir", data], dataDirectory: data)
        #expect(restored.status == 0, "\(restored.output)")
        #expect(restored.output.contains("restored 40 records"), "\(restored.output)")
        #expect(restored.output.contains("40 audit entries appended"), "\(restored.output)")
        #expect(try await auditTrail(center) == auditBefore, "the trail comes back entry for entry")
        for user in users {
            let (code, body) = try await HTTP.request("GET", port: center.httpPort, path: "/api/v2/presence/\(user)")
            #expect(code == 200, "\(user)")
            for field in ["status", "message", "updated_at", "last_seen", "sessions"] {
                #expect("\(body[field] ?? "none")" == "\(before[user]?[field] ?? "none")", "\(user) \(field)")
            }
        }

        // Again: every key is there and newer or equal, so nothing is written.
        let again = try await run(["restore", backup, "--data-dir", data], dataDirectory: data)
        #expect(again.status == 0)
        #expect(again.output.contains("restored 0 records") && again.output.contains("40 were in the bucket already"), "\(again.output)")
        #expect(again.output.contains("the audit stream holds entries already"), "\(again.output)")
        #expect(try await auditTrail(center).count == 40, "a second restore appends no entry twice")
        center.signal(SIGTERM)
        #expect(await center.waitForExit() == 0)
    }

    @Test func withoutARunningCenterOrABackupItSaysWhyInOneLine() async throws {
        let empty = TemporaryDirectory.make()
        let noCenter = try await run(["backup", empty + "/b", "--data-dir", empty], dataDirectory: empty)
        #expect(noCenter.status == 1)
        #expect(noCenter.output.contains("presence: no running center on \(empty)"), "\(noCenter.output)")
        let noBackup = try await run(["restore", empty, "--data-dir", empty], dataDirectory: empty)
        #expect(noBackup.status == 1)
        #expect(noBackup.output.contains("holds no backup"), "\(noBackup.output)")
        // A backup whose record no node could read is refused whole, before anything is written.
        try Data(#"{"format":1,"version":"x","node":"n","bucket":"presence","records":1,"created_at":"t"}"#.utf8)
            .write(to: URL(fileURLWithPath: empty + "/manifest.json"))
        try Data(#"[{"key":"x","value":"AAAA"}]"#.utf8).write(to: URL(fileURLWithPath: empty + "/presence-bucket.json"))
        let junk = try await run(["restore", empty, "--data-dir", empty], dataDirectory: empty)
        #expect(junk.status == 1)
        #expect(junk.output.contains("holds 'x', which is not a user's presence record"), "\(junk.output)")
    }
}
