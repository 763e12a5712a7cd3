import Testing

@testable import PresenceCore

struct PresenceChangeHubTests {
    private func stored(_ user: String, revision: UInt64) throws -> StoredPresence {
        StoredPresence(
            PresenceRecord(
                userID: try UserID(validating: user), status: .online, message: "", lastSeen: Timestamp(millisecondsSinceEpoch: 0),
                updatedAt: Timestamp(millisecondsSinceEpoch: 0), nodeID: "n", ttl: 300, revision: revision))
    }

    @Test func changesReachOnlyTheSubscribersOfTheirUser() async throws {
        let hub = PresenceChangeHub(maxSubscribers: 10, queueCapacity: 10)
        let alice = try #require(hub.subscribe(to: [try UserID(validating: "alice")]))
        let bob = try #require(hub.subscribe(to: [try UserID(validating: "bob")]))
        hub.publish(try stored("alice", revision: 1))
        hub.publish(try stored("bob", revision: 2))
        var aliceIterator = alice.events.makeAsyncIterator()
        var bobIterator = bob.events.makeAsyncIterator()
        #expect(await aliceIterator.next() == .presence(try stored("alice", revision: 1)))
        #expect(await bobIterator.next() == .presence(try stored("bob", revision: 2)))
        alice.cancel()
        bob.cancel()
        #expect(await aliceIterator.next() == nil)
        #expect(hub.subscriberCount == 0)
    }

    @Test func aSlowSubscriberIsCutOffWhileAFastOneKeepsReceiving() async throws {
        let hub = PresenceChangeHub(maxSubscribers: 10, queueCapacity: 3)
        let user = try UserID(validating: "u")
        let slow = try #require(hub.subscribe(to: [user]))
        let fast = try #require(hub.subscribe(to: [user]))
        var fastIterator = fast.events.makeAsyncIterator()
        for revision in 1...10 {
            hub.publish(try stored("u", revision: UInt64(revision)))
            // The fast subscriber drains its queue as events come.
            #expect(await fastIterator.next() == .presence(try stored("u", revision: UInt64(revision))))
        }
        #expect(slow.wasOverrun)
        #expect(!fast.wasOverrun)
        #expect(hub.subscriberCount == 1)
        #expect(hub.overrunCount == 1)
        // The slow one still gets what was queued before it was cut off, then the end.
        var received: [PresenceChangeHub.Event] = []
        for await event in slow.events { received.append(event) }
        #expect(received.count == 3)
    }

    @Test func theSubscriberCapIsEnforced() throws {
        let hub = PresenceChangeHub(maxSubscribers: 2, queueCapacity: 4)
        let user = try UserID(validating: "u")
        let first = hub.subscribe(to: [user])
        let second = hub.subscribe(to: [user])
        #expect(first != nil && second != nil)
        #expect(hub.subscribe(to: [user]) == nil)
        first?.cancel()
        #expect(hub.subscribe(to: [user]) != nil)
    }

    @Test func keepalivesGoToEverySubscriber() async throws {
        let hub = PresenceChangeHub(maxSubscribers: 10, queueCapacity: 4)
        let one = try #require(hub.subscribe(to: [try UserID(validating: "a")]))
        let two = try #require(hub.subscribe(to: [try UserID(validating: "b")]))
        hub.keepalive()
        var first = one.events.makeAsyncIterator()
        var second = two.events.makeAsyncIterator()
        #expect(await first.next() == .keepalive)
        #expect(await second.next() == .keepalive)
    }
}
