import NIOConcurrencyHelpers
import Testing

@testable import PresenceCore

/// The in-memory repository keeps the store's write rules: compare-and-set on revisions,
/// If-Match, not_found, expiry, and a change feed.
struct MemoryPresenceRepositoryTests {
    /// A clock the test moves by hand, starting at ``t0``.
    final class ManualClock: Sendable {
        private let millis = NIOLockedValueBox(t0.millisecondsSinceEpoch)
        var now: Timestamp { Timestamp(millisecondsSinceEpoch: millis.withLockedValue { $0 }) }
        func advance(seconds: Int64) { millis.withLockedValue { $0 += seconds * 1000 } }
    }

    let clock = ManualClock()

    func repository(changes: PresenceChangeHub? = nil) -> MemoryPresenceRepository {
        MemoryPresenceRepository(nodeID: "mem-1", changes: changes, maxSessions: 16) { [clock] in clock.now }
    }

    /// The code of the error `change` is refused with; records an issue when it is applied.
    func refusal(
        _ repository: MemoryPresenceRepository, _ change: PresenceChange, to user: String, ifMatch: RevisionMatch? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async -> PresenceError.Code? {
        do {
            let stored = try await repository.apply(change, to: uid(user), ifMatch: ifMatch)
            Issue.record("expected an error, got revision \(stored.revision)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error.code
        }
    }

    let online = PresenceChange.set(status: .online, message: "hi", ttl: 10)

    @Test func aWriteIsStoredUnderANewRevisionAndReadsBack() async throws {
        let repository = repository()
        #expect(try await repository.presence(of: uid("alice")) == nil)
        let stored = try await repository.apply(online, to: uid("alice"), ifMatch: nil)
        #expect(stored.revision == 1)
        #expect(stored.record.nodeID == "mem-1")
        #expect(stored.record.updatedAt == t0)
        #expect(try await repository.presence(of: uid("alice")) == stored)
    }

    @Test func revisionsGrowAcrossUsersLikeABucketSequence() async throws {
        let repository = repository()
        let a = try await repository.apply(online, to: uid("a"), ifMatch: nil)
        let b = try await repository.apply(online, to: uid("b"), ifMatch: nil)
        clock.advance(seconds: 1)  // a heartbeat in the write's own millisecond changes nothing
        let a2 = try await repository.apply(.heartbeat, to: uid("a"), ifMatch: nil)
        #expect([a.revision, b.revision, a2.revision] == [1, 2, 3])
    }

    @Test func heartbeatAndDeleteOfAMissingUserAreNotFoundAndStoreNothing() async throws {
        let repository = repository()
        #expect(await refusal(repository, .heartbeat, to: "x") == .notFound)
        #expect(await refusal(repository, .goOffline, to: "x") == .notFound)
        #expect(try await repository.presence(of: uid("x")) == nil)
        // Nothing was written: the first write still gets revision 1.
        #expect(try await repository.apply(online, to: uid("x"), ifMatch: nil).revision == 1)
    }

    @Test func ifMatchAcceptsTheCurrentRevisionAndRefusesAnyOther() async throws {
        let repository = repository()
        let user = uid("bob")
        #expect(await refusal(repository, online, to: "bob", ifMatch: .any) == .preconditionFailed)
        #expect(await refusal(repository, online, to: "bob", ifMatch: .revision(0)) == .preconditionFailed)
        let first = try await repository.apply(online, to: user, ifMatch: nil)
        let second = try await repository.apply(online, to: user, ifMatch: .revision(first.revision))
        #expect(second.revision == first.revision + 1)
        #expect(await refusal(repository, online, to: "bob", ifMatch: .revision(first.revision)) == .preconditionFailed)
        #expect(await refusal(repository, online, to: "bob", ifMatch: RevisionMatch.none) == .preconditionFailed)
        let third = try await repository.apply(online, to: user, ifMatch: .oneOf([first.revision, second.revision]))
        let fourth = try await repository.apply(.goOffline, to: user, ifMatch: .any)
        #expect(fourth.revision == third.revision + 1)
        #expect(fourth.status == .offline)
        #expect(try await repository.presence(of: user) == fourth)
    }

    @Test func aHeartbeatOnAnExpiredRecordWritesNothingAndReadsOffline() async throws {
        let repository = repository()
        let put = try await repository.apply(online, to: uid("cy"), ifMatch: nil)
        clock.advance(seconds: 5)
        let beat = try await repository.apply(.heartbeat, to: uid("cy"), ifMatch: nil)
        #expect(beat.revision == put.revision + 1)
        #expect(beat.record.lastSeen == clock.now)
        clock.advance(seconds: 11)
        let late = try await repository.apply(.heartbeat, to: uid("cy"), ifMatch: nil)
        #expect(late.revision == beat.revision)
        #expect(late.publicView(at: clock.now).status == .offline)
        #expect(try await repository.presence(of: uid("cy")) == beat)
    }

    @Test func compareAndSetRefusesAStaleExpectation() async throws {
        let repository = repository()
        let stored = try await repository.apply(online, to: uid("dee"), ifMatch: nil)
        var next = stored.record
        next.message = "late"
        #expect(repository.compareAndSet(next, expecting: .noRecord) == nil)
        #expect(repository.compareAndSet(next, expecting: .revision(stored.revision + 7)) == nil)
        #expect(try await repository.presence(of: uid("dee")) == stored)
        let written = try #require(repository.compareAndSet(next, expecting: .revision(stored.revision)))
        #expect(written.record.message == "late")
        #expect(written.revision == stored.revision + 1)
    }

    /// A clock that runs an action once, the next time it is read: a write by another node
    /// between a write's read and its compare-and-set.
    final class InterferingClock: Sendable {
        private let action = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)
        var now: Timestamp {
            let pending = action.withLockedValue { action in
                defer { action = nil }
                return action
            }
            pending?()
            return t0
        }
        func beforeNextReading(_ body: @escaping @Sendable () -> Void) { action.withLockedValue { $0 = body } }
    }

    /// A repository whose next write loses its first race to a write of message "other".
    func racedRepository(retryDeadline: Duration = .seconds(5)) async throws -> (MemoryPresenceRepository, StoredPresence) {
        let clock = InterferingClock()
        let repository = MemoryPresenceRepository(nodeID: "mem-1", retryDeadline: retryDeadline, maxSessions: 16) { clock.now }
        let first = try await repository.apply(online, to: uid("hub"), ifMatch: nil)
        clock.beforeNextReading {
            var other = first.record
            other.message = "other"
            _ = repository.compareAndSet(other, expecting: .revision(first.revision))
        }
        return (repository, first)
    }

    @Test func aWriteThatLosesARaceReadsAgainAndLandsOnTheNewRevision() async throws {
        let (repository, first) = try await racedRepository()
        let stored = try await repository.apply(.set(status: .busy, message: "mine", ttl: 60), to: uid("hub"), ifMatch: nil)
        #expect(stored.revision == first.revision + 2)
        #expect(stored.record.message == "mine")
    }

    @Test func aConditionalWriteThatLosesARaceIsPreconditionFailed() async throws {
        let (repository, first) = try await racedRepository()
        #expect(await refusal(repository, online, to: "hub", ifMatch: .revision(first.revision)) == .preconditionFailed)
        #expect(try await repository.presence(of: uid("hub"))?.record.message == "other")
    }

    @Test func aWritePastItsRetryDeadlineIsUnavailable() async throws {
        let (repository, _) = try await racedRepository(retryDeadline: .zero)
        #expect(await refusal(repository, online, to: "hub") == .unavailable)
        #expect(try await repository.presence(of: uid("hub"))?.record.message == "other")
    }

    @Test func concurrentWritesWithoutIfMatchAllLandWithTheirOwnRevision() async throws {
        let repository = repository()
        let revisions = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for index in 0..<64 {
                group.addTask {
                    try await repository.apply(.set(status: .busy, message: "m\(index)", ttl: 60), to: uid("erin"), ifMatch: nil)
                        .revision
                }
            }
            return try await group.reduce(into: [UInt64]()) { $0.append($1) }
        }
        #expect(Set(revisions).count == 64)
        #expect(try await repository.presence(of: uid("erin"))?.revision == 64)
    }

    @Test func concurrentWritesWithTheSameIfMatchHaveOneWinner() async throws {
        let repository = repository()
        let first = try await repository.apply(online, to: uid("fay"), ifMatch: nil)
        let outcomes = await withTaskGroup(of: PresenceError.Code?.self) { group in
            for index in 0..<32 {
                group.addTask { () -> PresenceError.Code? in
                    do throws(PresenceError) {
                        _ = try await repository.apply(
                            .set(status: .away, message: "w\(index)", ttl: 60), to: uid("fay"), ifMatch: .revision(first.revision))
                        return nil
                    } catch {
                        return error.code
                    }
                }
            }
            return await group.reduce(into: [PresenceError.Code?]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == nil }.count == 1)
        #expect(outcomes.filter { $0 == .preconditionFailed }.count == 31)
    }

    @Test func everyStoredRecordIsPublishedToTheChangeHub() async throws {
        let hub = PresenceChangeHub(maxSubscribers: 2, queueCapacity: 8)
        let repository = repository(changes: hub)
        let subscription = try #require(hub.subscribe(to: [uid("gus")]))
        let stored = try await repository.apply(online, to: uid("gus"), ifMatch: nil)
        var events = subscription.events.makeAsyncIterator()
        #expect(await events.next() == .presence(stored))
        subscription.cancel()
    }

    @Test func readinessIsWhatWasLastSet() {
        let repository = repository()
        #expect(repository.readiness() == .ready)
        repository.setReadiness(.notReady("the NATS connection is down"))
        #expect(repository.readiness() == .notReady("the NATS connection is down"))
    }
}
