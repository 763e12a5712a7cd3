import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NATSClient
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A replica converges to the bucket after every reconnection, whatever happened to the
/// center's data meanwhile (SPEC §1): deleted, or restored from an older copy (revisions
/// went backwards). Real processes: a center restarted on the same ports, and a leaf.
@Suite("Replica convergence", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct ReplicaConvergenceTests {
    /// A center that can be killed and started again on the same ports and data directory:
    /// ports below the ephemeral range (``Topology/startRestartableCenter``), the same at every start.
    final class Center {
        let directory = TemporaryDirectory.make()
        private var ports: (leafnode: Int, client: Int, http: Int) = (0, 0, 0)

        func start() async throws -> Topology {
            // The directory may have been deleted (the process log lives elsewhere).
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            guard ports.leafnode != 0 else {
                let topology = try await Topology.startRestartableCenter(dataDirectory: directory)
                ports = (topology.leafnodePort, topology.center.natsClientPort ?? 0, topology.center.httpPort)
                return topology
            }
            return try await Topology.startCenter(
                dataDirectory: directory, leafnodePort: ports.leafnode, clientPort: ports.client, httpPort: ports.http)
        }

        private var backup: String { directory + ".backup" }

        /// Stops `running`, copies its data directory aside (a consistent backup) and starts it again.
        func backUp(_ running: Topology) async throws -> Topology {
            await running.center.stop()
            TemporaryDirectory.adopt(backup)
            try FileManager.default.copyItem(atPath: directory, toPath: backup)
            return try await start()
        }

        /// Replaces the (stopped) center's data directory with the backup.
        func restoreBackup() throws {
            try FileManager.default.removeItem(atPath: directory)
            try FileManager.default.copyItem(atPath: backup, toPath: directory)
        }
    }

    /// Polls the leaf until `user` reads `expected` (a status code), 15 s at most.
    static func waitFor(_ expected: Int, _ user: String, on leaf: ServiceProcess) async throws -> (Int, [String: Any]) {
        try await NodeStartupTests.poll(leaf, "/api/v2/presence/\(user)", timeout: .seconds(15)) { status, _ in
            status == expected
        }
    }

    /// PUTs through `node` until it is accepted (a leaf refuses writes, 503, until it sees the
    /// hub again), 15 s at most; returns the last answer.
    static func putEventually(_ node: ServiceProcess, _ user: String, _ body: String) async throws -> (Int, [String: Any]) {
        let deadline = ContinuousClock.now + .seconds(15)
        var answer = try await node.put(user, body)
        while answer.0 == 503, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            answer = try await node.put(user, body)
        }
        return answer
    }

    static func kill(_ center: Topology) async {
        let natsPID = center.center.natsServerPID
        center.center.signal(SIGKILL)
        _ = await center.center.waitForExit()
        if let natsPID { _ = await waitUntilGone(natsPID) }
    }

    @Test func aCenterRestoredFromAnOlderCopyIsWhatEveryLeafServes() async throws {
        let center = Center()
        var topology = try await center.start()
        let leaf = try topology.startLeaf(name: "leaf")
        try await leaf.waitUntilReady()
        for user in ["ann", "bob", "cid"] {
            let (status, _) = try await leaf.put(user, #"{"status":"online","message":"backed up"}"#)
            #expect(status == 200)
        }
        let (_, annBackedUp) = try await leaf.get("/api/v2/presence/ann")

        // A backup of the data directory, taken with the center stopped.
        topology = try await center.backUp(topology)
        for user in ["ann", "dan", "eve"] {
            let (status, _) = try await Self.putEventually(leaf, user, #"{"status":"busy","message":"after the backup"}"#)
            #expect(status == 200)
        }

        // The center dies and is restored from the backup: its revisions go backwards.
        await Self.kill(topology)
        try center.restoreBackup()
        topology = try await center.start()

        // The leaf serves exactly what the bucket holds.
        let (gone, _) = try await Self.waitFor(404, "dan", on: leaf)
        #expect(gone == 404, "a record the bucket no longer has is not served")
        let (eve, _) = try await leaf.get("/api/v2/presence/eve")
        #expect(eve == 404)
        try await leaf.waitUntilReady()
        let (annStatus, ann) = try await leaf.get("/api/v2/presence/ann")
        #expect(annStatus == 200)
        #expect(ann["message"] as? String == "backed up")
        #expect(ann["revision"] as? Int == annBackedUp["revision"] as? Int)

        // New writes are visible, and If-Match with what the leaf shows works.
        let (written, fresh) = try await topology.center.put("fay", #"{"status":"away"}"#)
        #expect(written == 200)
        let (seen, onLeaf) = try await Self.waitFor(200, "fay", on: leaf)
        #expect(seen == 200)
        #expect(onLeaf["revision"] as? Int == fresh["revision"] as? Int)
        let token = try await TestNode.token("root", scopes: ["presence:admin"])
        let (conditional, _) = try await HTTP.request(
            "PUT", port: leaf.httpPort, path: "/api/v2/presence/ann",
            headers: ["Authorization": "Bearer \(token)", "If-Match": "\"\(ann["revision"] as? Int ?? 0)\""],
            body: #"{"status":"online"}"#)
        #expect(conditional == 200, "If-Match with the revision the leaf serves must not 412")
        #expect(await Self.rebuilds(leaf) >= 1)
        await leaf.stop()
        await topology.center.stop()
    }

    /// Restored, then written past the highest revision the leaf had seen before the leaf
    /// is back: the stream's state alone looks fine, the initial values tell.
    @Test func aRestoredCenterWrittenPastWhatTheLeafSawIsStillWhatTheLeafServes() async throws {
        let center = Center()
        var topology = try await center.start()
        let leaf = try topology.startLeaf(name: "leaf")
        try await leaf.waitUntilReady()
        for user in ["ann", "bob"] {
            let (status, _) = try await leaf.put(user, #"{"status":"online","message":"backed up"}"#)
            #expect(status == 200)
        }
        let (_, annBackedUp) = try await leaf.get("/api/v2/presence/ann")
        topology = try await center.backUp(topology)
        for user in ["ann", "dan"] {
            let (status, _) = try await Self.putEventually(leaf, user, #"{"status":"busy","message":"after the backup"}"#)
            #expect(status == 200)
        }

        // The center dies; once the leaf knows, its own nats-server is held still, so the
        // restored center can be written past the leaf's highest revision first.
        await Self.kill(topology)
        _ = try await NodeStartupTests.poll(leaf, "/health/ready") { _, body in
            (body["reason"] as? String)?.contains("not reachable") == true
        }
        let leafNATS = try #require(leaf.natsServerPID)
        _ = Glibc.kill(leafNATS, SIGSTOP)
        try center.restoreBackup()
        topology = try await center.start()
        for index in 0..<10 {
            let (status, _) = try await topology.center.put("new-\(index)", #"{"status":"online"}"#)
            #expect(status == 200)
        }
        _ = Glibc.kill(leafNATS, SIGCONT)

        let (gone, _) = try await Self.waitFor(404, "dan", on: leaf)
        #expect(gone == 404, "a record the bucket no longer has is not served")
        let (annStatus, ann) = try await Self.waitFor(200, "ann", on: leaf)
        #expect(annStatus == 200)
        #expect(ann["message"] as? String == "backed up")
        #expect(ann["revision"] as? Int == annBackedUp["revision"] as? Int)
        let (fresh, _) = try await Self.waitFor(200, "new-9", on: leaf)
        #expect(fresh == 200)
        await leaf.stop()
        await topology.center.stop()
    }

    @Test func aBucketDeletedWhileTheCenterRunsIsCreatedAgainAndEveryNodeFollows() async throws {
        let topology = try await Center().start()
        let leaf = try topology.startLeaf(name: "leaf")
        try await leaf.waitUntilReady()
        let (written, _) = try await leaf.put("kim", #"{"status":"online"}"#)
        #expect(written == 200)
        _ = try await Self.waitFor(200, "kim", on: topology.center)

        // An operator deletes the bucket behind the service's back.
        let connection = try await NATSConnection.connect(
            options: NATSConnectionOptions(urls: [topology.center.natsClientURL], name: "operator"))
        let answer = String(
            decoding: try await connection.request("$JS.API.STREAM.DELETE.KV_presence", timeout: .seconds(2)), as: UTF8.self)
        await connection.close()
        #expect(answer.contains("\"success\":true"), "\(answer)")

        for node in [topology.center, leaf] {
            let (gone, _) = try await Self.waitFor(404, "kim", on: node)
            #expect(gone == 404, "the deleted record is not served")
        }
        let (again, record) = try await Self.putEventually(topology.center, "lou", #"{"status":"online"}"#)
        #expect(again == 200)
        #expect(record["revision"] as? Int == 1, "a new bucket")
        let (seen, _) = try await Self.waitFor(200, "lou", on: leaf)
        #expect(seen == 200)
        try await leaf.waitUntilReady()
        try await topology.center.waitUntilReady()
        await leaf.stop()
        await topology.center.stop()
    }

    @Test func aCenterWhoseDataWasDeletedIsWhatEveryLeafServes() async throws {
        let center = Center()
        var topology = try await center.start()
        let leaves = [try topology.startLeaf(name: "leaf-1"), try topology.startLeaf(name: "leaf-2")]
        for leaf in leaves { try await leaf.waitUntilReady() }
        for user in ["gus", "hal"] {
            let (status, _) = try await leaves[0].put(user, #"{"status":"online"}"#)
            #expect(status == 200)
        }
        _ = try await Self.waitFor(200, "hal", on: leaves[1])

        await Self.kill(topology)
        try FileManager.default.removeItem(atPath: center.directory)
        topology = try await center.start()

        for leaf in leaves {
            let (gus, _) = try await Self.waitFor(404, "gus", on: leaf)
            #expect(gus == 404)
            let (hal, _) = try await leaf.get("/api/v2/presence/hal")
            #expect(hal == 404)
        }
        let (written, record) = try await Self.putEventually(leaves[0], "ivy", #"{"status":"online"}"#)
        #expect(written == 200)
        #expect(record["revision"] as? Int == 1, "a new bucket starts again from revision 1")
        let (seen, onOther) = try await Self.waitFor(200, "ivy", on: leaves[1])
        #expect(seen == 200)
        #expect(onOther["revision"] as? Int == 1)
        for leaf in leaves { await leaf.stop() }
        await topology.center.stop()
    }

    /// `presence_replica_rebuilds_total` of a node.
    static func rebuilds(_ node: ServiceProcess) async -> Int {
        guard let url = URL(string: "http://127.0.0.1:\(node.httpPort)/metrics"),
            let (data, _) = try? await URLSession.shared.data(from: url)
        else { return -1 }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("presence_replica_rebuilds_total") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Int(Double(String($0)) ?? -1) } ?? -1
    }
}
