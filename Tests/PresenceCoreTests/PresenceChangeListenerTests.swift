import NIOConcurrencyHelpers
import Testing

@testable import PresenceCore

/// Listeners of the change hub (connected sockets): the users they watch change while they
/// live, and they get exactly those users' changes.
struct PresenceChangeListenerTests {
    final class Collector: PresenceChangeListener {
        let received = NIOLockedValueBox<[String]>([])
        func presenceChanged(_ stored: StoredPresence) { received.withLockedValue { $0.append(stored.user.rawValue) } }
    }

    private func stored(_ user: String, revision: UInt64, status: PresenceStatus = .online) throws -> StoredPresence {
        StoredPresence(
            PresenceRecord(
                userID: try UserID(validating: user), status: status, message: "", lastSeen: Timestamp(millisecondsSinceEpoch: 0),
                updatedAt: Timestamp(millisecondsSinceEpoch: 0), nodeID: "n", ttl: 300, revision: revision))
    }

    private func ids(_ names: String...) throws -> [UserID] { try names.map { try UserID(validating: $0) } }

    @Test func aListenerGetsTheChangesOfTheUsersItWatchesNow() throws {
        let hub = PresenceChangeHub(maxSubscribers: 1, queueCapacity: 8)
        let collector = Collector()
        let listening = hub.listen(collector)
        #expect(listening.watch(try ids("a", "b")))
        try hub.publish(stored("a", revision: 1))
        try hub.publish(stored("c", revision: 2))
        listening.unwatch(try ids("a"))
        try hub.publish(stored("a", revision: 3))
        try hub.publish(stored("b", revision: 4))
        #expect(collector.received.withLockedValue { $0 } == ["a", "b"])
        #expect(hub.listenerCount == 1 && hub.subscriberCount == 0, "listeners do not take stream places")
        listening.cancel()
        try hub.publish(stored("b", revision: 5))
        #expect(collector.received.withLockedValue { $0 } == ["a", "b"])
        #expect(hub.listenerCount == 0)
        #expect(!listening.watch(try ids("a")), "a cancelled listener watches nothing")
    }

    @Test func watchingPastTheLimitChangesNothingAndUsersAreCountedOnce() throws {
        let hub = PresenceChangeHub(maxSubscribers: 1, queueCapacity: 8)
        let listening = hub.listen(Collector())
        #expect(listening.watch(try ids("a", "b"), limit: 3))
        #expect(listening.watch(try ids("b", "c"), limit: 3))
        #expect(!listening.watch(try ids("d"), limit: 3))
        #expect(listening.watchedCount == 3)
    }

    @Test func theEventFilterSendsOnlyWhatAPublicReaderSeesChangeAndNothingOlder() throws {
        var filter = PresenceEventFilter()
        let now = Timestamp(millisecondsSinceEpoch: 0)
        #expect(filter.admitSnapshot(try stored("a", revision: 5), at: now))
        #expect(!filter.admitChange(try stored("a", revision: 4, status: .busy), at: now), "older than the snapshot")
        #expect(!filter.admitChange(try stored("a", revision: 6), at: now), "same public view (a heartbeat)")
        #expect(filter.admitChange(try stored("a", revision: 7, status: .busy), at: now))
        #expect(!filter.admitSnapshot(try stored("a", revision: 7, status: .busy), at: now), "a snapshot read after the change")
        filter.forget(try UserID(validating: "a"))
        #expect(filter.admitSnapshot(try stored("a", revision: 7, status: .busy), at: now), "subscribed again: sent afresh")
        #expect(filter.admitChange(try stored("b", revision: 1), at: now), "a user without a record at subscribe time")
    }
}
