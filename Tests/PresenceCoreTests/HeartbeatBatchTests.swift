import Testing
@testable import PresenceCore

/// The heartbeat plane's message (SPEC §3a): what one node sends, what another accepts.
struct HeartbeatBatchTests {
    func beat(_ user: String, _ session: String = "default", plus millis: Int64 = 0) -> HeartbeatBatch.Heartbeat {
        HeartbeatBatch.Heartbeat(user: uid(user), session: sid(session), time: at(t0, plusMillis: millis))
    }

    @Test func aBatchReadsBackAsItWasSent() throws {
        let batch = HeartbeatBatch(
            nodeID: "leaf eu 1", heartbeats: [beat("alice", plus: 120), beat("auth0|7", "phone:2", plus: 0), beat("josé", plus: 199)])
        let decoded = try #require(HeartbeatBatch.decode(batch.encoded()))
        #expect(decoded.batch == batch)
        #expect(decoded.skippedLines == 0)
        let text = String(decoding: batch.encoded(), as: UTF8.self)
        #expect(text.hasPrefix("presence-heartbeats 1 \(t0.millisecondsSinceEpoch) leaf eu 1\n"))
        #expect(text.contains("alice default 120\n"))
    }

    @Test func anEmptyBatchIsABatch() throws {
        let decoded = try #require(HeartbeatBatch.decode(HeartbeatBatch(nodeID: "n", heartbeats: []).encoded()))
        #expect(decoded.batch.heartbeats.isEmpty)
    }

    @Test("a message that is not a batch of this version is refused whole", arguments: [
        "", "hello", "presence-heartbeats 2 1795255200000 n\nalice default 1\n", "presence-heartbeats 1 -5 n\n",
        "presence-heartbeats 1 12x n\n", "presence-heartbeats 1 1795255200000\n", "presence-heartbeat 1 1 n\n",
        "presence-heartbeats 1 9223372036854775807 n\nalice default 60000\n", "presence-heartbeats 1 253402300800000 n\n",
        "presence-heartbeats 1 1795255200000 node\u{1B}[31m\n", "presence-heartbeats 1 1795255200000 \(String(repeating: "n", count: 129))\n",
    ])
    func foreignMessagesAreRefused(text: String) {
        #expect(HeartbeatBatch.decode(Array(text.utf8)) == nil)
    }

    @Test func linesThatAreNotHeartbeatsAreSkippedAndCounted() throws {
        let text = """
            presence-heartbeats 1 \(t0.millisecondsSinceEpoch) node-2
            alice default 5
            bad/user default 5
            bob bad/session 5
            carol default -1
            dave default 60001
            erin default 1e3
            frank default 5 extra
            grace default
            heidi default 60000

            """
        let decoded = try #require(HeartbeatBatch.decode(Array(text.utf8)))
        #expect(decoded.batch.heartbeats == [beat("alice", plus: 5), beat("heidi", plus: 60_000)])
        #expect(decoded.skippedLines == 7)
    }

    @Test func aForgedNodeIDCannotAddLines() throws {
        let batch = HeartbeatBatch(nodeID: "evil\nmallory default 0", heartbeats: [beat("alice")])
        let decoded = try #require(HeartbeatBatch.decode(batch.encoded()))
        #expect(decoded.batch.heartbeats == [beat("alice")])
        #expect(decoded.batch.nodeID == "evil mallory default 0")
    }

    @Test func theSubjectNamesTheBucket() {
        #expect(HeartbeatBatch.subject(bucket: "presence") == "presence.heartbeats.presence")
    }
}

/// The batcher: one entry per session (the latest), due by time or by size.
struct HeartbeatBatcherTests {
    let start = ContinuousClock.now

    func beat(_ user: String, plus millis: Int64) -> HeartbeatBatch.Heartbeat {
        HeartbeatBatch.Heartbeat(user: uid(user), session: .defaultSession, time: at(t0, plusMillis: millis))
    }

    @Test func aBatchIsDueOneIntervalAfterItsFirstHeartbeat() throws {
        var batcher = HeartbeatBatcher(interval: .milliseconds(200), maxHeartbeats: 100)
        #expect(!batcher.isDue(at: start + .seconds(10)), "nothing waits")
        let fullAfterFirst = batcher.add(beat("alice", plus: 0), now: start)
        let fullAfterSecond = batcher.add(beat("bob", plus: 150), now: start + .milliseconds(150))
        #expect(!fullAfterFirst && !fullAfterSecond)
        #expect(!batcher.isDue(at: start + .milliseconds(199)))
        #expect(batcher.isDue(at: start + .milliseconds(200)))
        #expect(batcher.dueAt == start + .milliseconds(200))
        let taken = batcher.take(nodeID: "leaf-1")
        let batch = try #require(taken)
        #expect(batch.nodeID == "leaf-1")
        #expect(Set(batch.heartbeats.map(\.user.rawValue)) == ["alice", "bob"])
        let again = batcher.take(nodeID: "leaf-1")
        #expect(batcher.count == 0 && batcher.dueAt == nil && again == nil)
        #expect(!batcher.isDue(at: start + .seconds(10)))
    }

    @Test func aFullBatchIsDueAtOnce() {
        var batcher = HeartbeatBatcher(interval: .seconds(60), maxHeartbeats: 3)
        let first = batcher.add(beat("a", plus: 0), now: start)
        let second = batcher.add(beat("b", plus: 0), now: start)
        let third = batcher.add(beat("c", plus: 0), now: start)
        #expect(!first && !second)
        #expect(third, "the third fills it")
        #expect(batcher.isDue(at: start))
    }

    @Test func heartbeatsFasterThanBatchesGoOutInSeveralBatchesOfTheMostEach() throws {
        var batcher = HeartbeatBatcher(interval: .seconds(60), maxHeartbeats: 2)
        for index in 0..<5 { _ = batcher.add(beat("u\(index)", plus: 0), now: start) }
        var sizes: [Int] = []
        var users: Set<String> = []
        while batcher.isDue(at: start), let batch = batcher.take(nodeID: "n") {
            sizes.append(batch.heartbeats.count)
            users.formUnion(batch.heartbeats.map(\.user.rawValue))
        }
        #expect(sizes == [2, 2, 1])
        #expect(users.count == 5)
        #expect(batcher.count == 0 && !batcher.isDue(at: start + .seconds(120)))
    }

    @Test func aSessionHeartbeatingTwiceIsSentOnceWithItsLatestTime() throws {
        var batcher = HeartbeatBatcher(interval: .milliseconds(200), maxHeartbeats: 2)
        _ = batcher.add(beat("alice", plus: 10), now: start)
        _ = batcher.add(beat("alice", plus: 90), now: start)
        _ = batcher.add(beat("alice", plus: 50), now: start)  // older than the one waiting: kept out
        #expect(batcher.count == 1)
        let taken = batcher.take(nodeID: "n")
        #expect(try #require(taken).heartbeats == [beat("alice", plus: 90)])
    }
}
