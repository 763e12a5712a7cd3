import Foundation
import Testing

extension HeavyProcessSuites {
    /// Three clustered centers and a leaf as real processes (SPEC §1: any one center can be lost
    /// without losing an acknowledged write or the ability to write).
    @Suite(
        .temporaryFiles, .serialized,
        .enabled(if: ClusterTopology.serverCanCluster, "clustered centers need nats-server 2.10+ (make test puts one first on PATH)"))
    struct ClusteredCenterTests {
        /// How long writes may take to resume after a center dies (measured: about 5 s).
        static let failoverBound = Duration.seconds(30)

        @Test func killingTheBucketLeaderLosesNoAcknowledgedWriteAndWritesResumeEverywhere() async throws {
            let cluster = ClusterTopology()
            try await cluster.startAll()
            let leaf = try cluster.startLeaf(name: "leaf-1")
            try await leaf.waitUntilReady(timeout: .seconds(60))
            let token = try await TestNode.token("root", scopes: ["presence:admin"])
            let (probeStatus, _) = try await leaf.put("reader-probe", #"{"status":"online"}"#)
            #expect(probeStatus == 200 || probeStatus == 201)

            // Round 1: the bucket's leader dies. Round 2: the center the leaf is connected to dies.
            let leader = try await cluster.bucketLeader()
            try await killAndMeasure(leader, in: cluster, leaf: leaf, token: token, round: "bucket leader")
            let leafsCenter = try #require(await cluster.centerOfLeaf("leaf-1"), "some center lists the leaf")
            try await killAndMeasure(leafsCenter, in: cluster, leaf: leaf, token: token, round: "the leaf's center")
            await leaf.stop()
            await cluster.stopAll()
        }

        /// A rolling restart (issue 27): each center in turn stopped with SIGTERM and started
        /// again, while four writers write through the leaf. Every write is answered 2xx, and
        /// every acknowledged one reads back through the leaf and a center.
        @Test func aRollingRestartOfTheCentersAnswersEveryWriteThroughTheLeaf() async throws {
            let cluster = ClusterTopology()
            try await cluster.startAll()
            let leaf = try cluster.startLeaf(name: "leaf-1")
            try await leaf.waitUntilReady(timeout: .seconds(60))
            let token = try await TestNode.token("root", scopes: ["presence:admin"])
            let writers = (0..<4).map { _ in WriteLog() }
            let writing = Task {
                await withTaskGroup(of: Void.self) { group in
                    for (index, writer) in writers.enumerated() {
                        group.addTask { await writer.write(through: leaf.httpPort, prefix: "rolling-\(index)", token: token) }
                    }
                }
            }
            try await Task.sleep(for: .seconds(2))
            let started = ContinuousClock.now
            for member in cluster.members { try await cluster.restart(member.name) }
            try await Task.sleep(for: .seconds(2))
            for writer in writers { writer.stop() }
            await writing.value

            let acknowledged = writers.flatMap(\.acknowledgedUsers)
            let failures = writers.reduce(0) { $0 + $1.failureCount }
            let longest = writers.map(\.longestAnswer).max() ?? .zero
            print("ROLLING writes=\(acknowledged.count + failures) non_2xx=\(failures) longest_answer=\(longest) restart_took=\(ContinuousClock.now - started)")
            #expect(failures == 0, "every write answered 2xx: \(writers.flatMap { $0.failureCauses(after: started) }.prefix(5))")
            #expect(acknowledged.count > 100)
            try await expectEveryWrite(acknowledged, readableThrough: leaf, name: "the leaf")
            if let center = cluster.runningCenters.first {
                try await expectEveryWrite(acknowledged, readableThrough: center, name: "a center")
            }
            // The audit trail (replicated like the bucket) went through the restarts too: one
            // entry for each acknowledged write, none lost and none twice.
            // Appends are not awaited by the writes, and one that failed is sent again for up to
            // presence.write_failover_wait: a missing entry is looked for again until then.
            let sample = Array(acknowledged.shuffled().prefix(100))
            let auditDeadline = ContinuousClock.now + .seconds(Double(ClusterTopology.failoverWait) ?? 10) + .seconds(5)
            var unaudited = sample
            var answers: [String: String] = [:]
            while !unaudited.isEmpty {
                var still: [String] = []
                for user in unaudited {
                    let (status, body) = try await HTTP.request(
                        "GET", port: leaf.httpPort, path: "/api/v2/audit?user=\(user)", headers: ["Authorization": "Bearer \(token)"])
                    if status != 200 || (body["entries"] as? [Any])?.count != 1 {
                        still.append(user)
                        answers[user] = "\(status) \(body)"
                    }
                }
                if !still.isEmpty { print("ROLLING audit: \(still.count) sampled writes without their one entry yet") }
                unaudited = still
                guard !unaudited.isEmpty, ContinuousClock.now < auditDeadline else { break }
                try await Task.sleep(for: .seconds(1))
            }
            print("ROLLING audit: \(sample.count - unaudited.count) of \(sample.count) sampled writes with one entry")
            unaudited = unaudited.map { "\($0): \(answers[$0] ?? "")" }
            #expect(
                unaudited.isEmpty,
                "\(unaudited.prefix(3)); the leaf said: \(leaf.output.split(separator: "\n").filter { $0.contains("audit") }.prefix(5))")
            await leaf.stop()
            await cluster.stopAll()
        }

        /// Writes through the leaf and through a surviving center, reads through the leaf, kills
        /// `victim` with SIGKILL, and checks: reads never failed, both writers resumed within the
        /// bound, every acknowledged write is in the bucket (through a survivor, the leaf, and the
        /// victim once restarted, which turns ready by itself).
        private func killAndMeasure(
            _ victim: String, in cluster: ClusterTopology, leaf: ServiceProcess, token: String, round: String
        ) async throws {
            let survivor = try #require(cluster.runningCenters.first { $0.dataDirectory != cluster.member(victim)?.dataDirectory })
            let throughLeaf = WriteLog()
            let throughCenter = WriteLog()
            let reads = WriteLog()
            let prefix = round.replacingOccurrences(of: " ", with: "-").replacingOccurrences(of: "'", with: "")
            async let leafWrites: Void = throughLeaf.write(through: leaf.httpPort, prefix: "\(prefix)-leaf", token: token)
            async let centerWrites: Void = throughCenter.write(through: survivor.httpPort, prefix: "\(prefix)-center", token: token)
            async let leafReads: Void = reads.read(through: leaf.httpPort, path: "/api/v2/presence/reader-probe")
            try await Task.sleep(for: .seconds(2))
            let killedAt = ContinuousClock.now
            await cluster.kill(victim)
            let deadline = killedAt + Self.failoverBound.scaled
            while ContinuousClock.now < deadline,
                throughLeaf.recovery(after: killedAt) == nil || throughCenter.recovery(after: killedAt) == nil
            {
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .seconds(1))
            for log in [throughLeaf, throughCenter, reads] { log.stop() }
            _ = await (leafWrites, centerWrites, leafReads)

            let viaLeaf = throughLeaf.recovery(after: killedAt)
            let viaCenter = throughCenter.recovery(after: killedAt)
            print("FAILOVER round=\"\(round)\" writes_steady_again_via_center=\(viaCenter.map { "\($0)" } ?? "none") via_leaf=\(viaLeaf.map { "\($0)" } ?? "none") acked=\(throughLeaf.acknowledgedUsers.count + throughCenter.acknowledgedUsers.count) failed_writes=\(throughLeaf.failureCount + throughCenter.failureCount)")
            #expect(viaLeaf != nil, "writes through the leaf resume (20 in a row) after \(round) dies: \(throughLeaf.failureCauses(after: killedAt).suffix(3))")
            #expect(viaCenter != nil, "writes through a surviving center resume: \(throughCenter.failureCauses(after: killedAt).suffix(3))")
            #expect(reads.failureCount == 0, "reads through the leaf never fail: \(reads.failureCauses(after: .now - .seconds(3600)).prefix(3))")

            let acknowledged = throughLeaf.acknowledgedUsers + throughCenter.acknowledgedUsers
            #expect(!acknowledged.isEmpty)
            for center in cluster.runningCenters {
                try await expectEveryWrite(acknowledged, readableThrough: center, name: "a surviving center")
            }
            try await expectEveryWrite(acknowledged, readableThrough: leaf, name: "the leaf")
            let restarted = try cluster.start(victim)
            try await restarted.waitUntilReady(timeout: .seconds(60))
            try await expectEveryWrite(acknowledged, readableThrough: restarted, name: "the restarted \(round)")
        }

        /// Every user in `users` reads back through `process` with its own name as the message
        /// (the replica may need a moment to converge: retried up to 30 s).
        private func expectEveryWrite(_ users: [String], readableThrough process: ServiceProcess, name: String) async throws {
            let deadline = ContinuousClock.now + .seconds(30).scaled
            var missing = users
            while !missing.isEmpty && ContinuousClock.now < deadline {
                var stillMissing: [String] = []
                for user in missing {
                    let (status, body) = try await HTTP.request("GET", port: process.httpPort, path: "/api/v2/presence/\(user)")
                    if status != 200 || body["message"] as? String != user { stillMissing.append(user) }
                }
                missing = stillMissing
                if !missing.isEmpty { try await Task.sleep(for: .milliseconds(500)) }
            }
            #expect(missing.isEmpty, "\(missing.count) of \(users.count) acknowledged writes missing through \(name): \(missing.prefix(5))")
        }

        @Test func theSweeperKeepsPersistingExpiriesAfterItsLeaseHolderDies() async throws {
            let cluster = ClusterTopology()
            try await cluster.startAll()
            let holder = try await leaseHolder(in: cluster)
            let survivor = try #require(cluster.members.first { $0.name != holder }.flatMap { cluster.center($0.name) })
            let (status, written) = try await survivor.put("short-lived", #"{"status":"online","ttl":10}"#)
            #expect(status == 200 || status == 201)
            let revision = try #require(written["revision"] as? Int)
            await cluster.kill(holder)

            // Persisted (a new revision, written by the sweeper), not only computed on read.
            let deadline = ContinuousClock.now + .seconds(45).scaled
            var persisted: [String: Any] = [:]
            while ContinuousClock.now < deadline {
                let (_, body) = try await HTTP.request("GET", port: survivor.httpPort, path: "/api/v2/presence/short-lived")
                if let now = body["revision"] as? Int, now > revision {
                    persisted = body
                    break
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(persisted["status"] as? String == "offline", "another center took the lease over and persisted the expiry")
            // Exactly one of the two survivors holds the lease now.
            _ = try await leaseHolder(in: cluster)
            var holders = 0
            for process in cluster.runningCenters {
                if try await HTTP.metric("presence_sweeper_lease_held", port: process.httpPort) == 1 { holders += 1 }
            }
            #expect(holders == 1, "one sweeper at a time")
            await cluster.stopAll()
        }

        /// The center whose `/metrics` says it holds the sweeper's lease (waits for one).
        private func leaseHolder(in cluster: ClusterTopology) async throws -> String {
            let deadline = ContinuousClock.now + .seconds(30).scaled
            while ContinuousClock.now < deadline {
                for member in cluster.members {
                    guard let process = cluster.center(member.name) else { continue }
                    // The sample line, not the HELP line (whose text starts with "1 when").
                    if (try? await HTTP.metric("presence_sweeper_lease_held", port: process.httpPort)) == 1 { return member.name }
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            Issue.record("no center holds the sweeper's lease")
            throw CancellationError()
        }

        /// Starts `center` standalone, writes each of `users` (its own name as the message), stops it.
        private func writeAsStandalone(_ users: [String], status: String, center: String, of cluster: ClusterTopology)
            async throws
        {
            let standalone = try cluster.start(center, clustered: false)
            try await standalone.waitUntilReady()
            for user in users {
                let (code, _) = try await standalone.put(user, #"{"status":"\#(status)","message":"\#(user)"}"#)
                #expect(code == 200 || code == 201)
            }
            await standalone.stop()
        }

        @Test func aStandaloneCenterRestartedAsTheFirstOfThreeKeepsItsData() async throws {
            let cluster = ClusterTopology()
            let first = cluster.members[0].name
            let users = (0..<20).map { "kept-\($0)" }
            try await writeAsStandalone(users, status: "busy", center: first, of: cluster)

            try await cluster.startAll()
            for member in cluster.members {
                let center = try #require(cluster.center(member.name))
                try await expectEveryWrite(users, readableThrough: center, name: member.name)
            }
            let cluster0 = await ClusterTopology.info(try #require(cluster.center(first)))["cluster"] as? [String: Any]
            #expect(cluster0?["bucket_replicas"] as? Int == 3)
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: cluster.members[0].dataDirectory)
                    .contains { $0.hasPrefix("jetstream-standalone-") }, "the standalone store is kept as a backup")
            await cluster.stopAll()
        }

        @Test func aCenterThatGoesBackToStandaloneBeforeItsClusterFormedKeepsItsData() async throws {
            let cluster = ClusterTopology()
            let first = cluster.members[0].name
            let users = (0..<10).map { "back-\($0)" }
            try await writeAsStandalone(users, status: "online", center: first, of: cluster)

            // Started clustered alone: it exports its store and moves it aside, but no bucket
            // forms without the other centers; it dies there.
            let lonely = try cluster.start(first)
            let exportPath = cluster.members[0].dataDirectory + "/standalone-export.json"
            let deadline = ContinuousClock.now + .seconds(30).scaled
            while ContinuousClock.now < deadline, !FileManager.default.fileExists(atPath: exportPath) {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(FileManager.default.fileExists(atPath: exportPath), "the store was exported: \(lonely.output.suffix(2000))")
            // One center of three is not ready: it says so, with a reason, for 3 s from its first
            // answer, and keeps running (waiting for the others) rather than failing.
            let answers = try await lonely.readinessAnswers(over: .seconds(3))
            #expect(answers.count >= 2, "\(answers.count) answers in 3 s")
            for answer in answers {
                #expect(answer.status == 503 && answer.reason?.isEmpty == false, "\(answer)")
            }
            #expect(lonely.process.isRunning)
            await cluster.kill(first)

            // Back to standalone: the exported records come back before it turns ready.
            let again = try cluster.start(first, clustered: false)
            try await again.waitUntilReady(timeout: .seconds(60))
            for user in users {
                let (status, body) = try await HTTP.request("GET", port: again.httpPort, path: "/api/v2/presence/\(user)")
                #expect(status == 200 && body["message"] as? String == user, "\(user) after going back to standalone")
            }
            #expect(!FileManager.default.fileExists(atPath: exportPath), "the export is removed once written")
            await again.stop()
        }
    }
}
