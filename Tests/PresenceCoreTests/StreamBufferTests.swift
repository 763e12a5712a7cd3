import Synchronization
import Testing

@testable import PresenceCore

/// Streams are bounded in bytes, not only in events (hardening item 8): per subscriber and
/// for all of them together.
struct StreamBufferTests {
    private func stored(_ user: String, revision: UInt64, message: String = "") throws -> StoredPresence {
        StoredPresence(
            PresenceRecord(
                userID: try UserID(validating: user), status: .online, message: message, lastSeen: Timestamp(millisecondsSinceEpoch: 0),
                updatedAt: Timestamp(millisecondsSinceEpoch: 0), nodeID: "n", ttl: 300, revision: revision))
    }

    @Test func aSubscriberPastItsByteBoundIsCutOffOnceAndItsBytesAreGivenBack() async throws {
        let budget = StreamMemoryBudget(maxPerStream: 2_000)
        let hub = PresenceChangeHub(maxSubscribers: 10, queueCapacity: 1_000, memory: budget)
        let user = try UserID(validating: "u")
        let cutOffs = Atomic(0)
        let slow = try #require(hub.subscribe(to: [user]) { cutOffs.add(1, ordering: .relaxed) })
        let message = String(repeating: "x", count: 300)
        for revision in 1...20 { hub.publish(try stored("u", revision: UInt64(revision), message: message)) }
        #expect(slow.wasOverrun)
        #expect(hub.overrunCount == 1)
        #expect(cutOffs.load(ordering: .relaxed) == 1)
        #expect(hub.subscriberCount == 0)
        #expect(hub.bufferedBytes == 0, "a cut-off subscriber holds nothing against the budget")
        var received = 0
        for await _ in slow.events { received += 1 }
        #expect(received >= 1 && received < 20)
    }

    @Test func takenEventsGiveTheirBytesBack() async throws {
        let budget = StreamMemoryBudget(maxPerStream: 100_000)
        let hub = PresenceChangeHub(maxSubscribers: 10, queueCapacity: 100, memory: budget)
        let subscription = try #require(hub.subscribe(to: [try UserID(validating: "u")]))
        hub.publish(try stored("u", revision: 1))
        hub.keepalive()
        #expect(hub.bufferedBytes > 0)
        #expect(subscription.buffer.heldBytes == hub.bufferedBytes)
        var iterator = subscription.events.makeAsyncIterator()
        _ = await iterator.next()
        _ = await iterator.next()
        #expect(hub.bufferedBytes == 0)
        subscription.cancel()
    }

    @Test func theTotalCapCutsOffSubscribersThatAreBehindButNotTheOthers() async throws {
        let budget = StreamMemoryBudget(maxPerStream: 100_000, maxTotal: 50_000, slack: 4_096)
        let hub = PresenceChangeHub(maxSubscribers: 10, queueCapacity: 10_000, memory: budget)
        let user = try UserID(validating: "u")
        let behind = try #require(hub.subscribe(to: [user]))
        // The connection of `behind` holds 48 KB it could not send.
        #expect(behind.buffer.add(48_000))
        let current = try #require(hub.subscribe(to: [user]))
        var iterator = current.events.makeAsyncIterator()
        hub.publish(try stored("u", revision: 1, message: String(repeating: "y", count: 4_000)))
        #expect(behind.wasOverrun, "past the total cap, a stream that is behind is cut off")
        #expect(!current.wasOverrun, "a stream that holds less than the slack is not behind")
        #expect(await iterator.next() != nil)
        #expect(hub.bufferedBytes == 0)
        current.cancel()
    }

    @Test func bytesAConnectionHasNotSentCountAgainstTheStreamsBound() {
        let budget = StreamMemoryBudget(maxPerStream: 10_000)
        let buffer = StreamBuffer(budget: budget)
        #expect(buffer.add(6_000))
        #expect(!buffer.reserve(5_000), "the queue may not take what the connection already holds")
        #expect(!buffer.add(5_000), "past the bound: cut off")
        buffer.release(11_000)
        #expect(budget.bufferedBytes == 0)
        #expect(buffer.reserve(5_000))
        buffer.close()
        #expect(budget.bufferedBytes == 0)
        buffer.release(5_000)
        #expect(budget.bufferedBytes == 0, "a closed buffer gives nothing back twice")
        #expect(!buffer.reserve(1), "a closed buffer takes nothing")
    }
}
