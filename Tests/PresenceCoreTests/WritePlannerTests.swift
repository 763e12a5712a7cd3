import Testing

@testable import PresenceCore

/// The compare-and-set loop as a pure state machine: lagging replicas, lost races, If-Match.
struct WritePlannerTests {
    func planner(
        _ change: PresenceChange, ifMatch: RevisionMatch? = nil, replica: PresenceRecord?, deadline: Duration = .seconds(5)
    ) -> WritePlanner {
        WritePlanner(
            change: change, user: uid("alice"), ifMatch: ifMatch, nodeID: "node-2", replicaRecord: replica.map(UserPresence.init(single:)),
            retryDeadline: deadline, maxSessions: 16)
    }

    func written(_ step: WritePlanner.Step) -> (PresenceRecord, WritePlanner.Expectation)? {
        if case .write(let record, let expecting) = step { return (record.single, expecting) }
        return nil
    }

    func failure(_ step: WritePlanner.Step) -> PresenceError.Code? {
        if case .fail(let error) = step { return error.code }
        return nil
    }

    @Test func aFirstWriteExpectsNoRecordAndAnUpdateExpectsTheRevisionRead() {
        var first = planner(.set(status: .busy, message: "m", ttl: 60), replica: nil)
        #expect(written(first.next(now: t0))?.1 == .noRecord)
        var update = planner(.set(status: .busy, message: "m", ttl: 60), replica: record(revision: 7))
        let (next, expecting) = written(update.next(now: t0)) ?? (record(), .noRecord)
        #expect(expecting == .revision(7))
        #expect(next.status == .busy && next.nodeID == "node-2")
    }

    @Test func answersThatWriteNothingAreConfirmedWithTheBucketFirst() {
        // The replica has no record (another node may have just written one): confirm the 404.
        var heartbeat = planner(.heartbeat, replica: nil)
        #expect(heartbeat.next(now: t0) == .readFromBucket)
        heartbeat.confirmed(UserPresence?.none)
        #expect(failure(heartbeat.next(now: t0)) == .notFound)

        // The replica lags: the bucket has a live record, so the heartbeat writes after all.
        var lagging = planner(.heartbeat, replica: nil)
        #expect(lagging.next(now: t0) == .readFromBucket)
        lagging.confirmed(record(revision: 3))
        #expect(written(lagging.next(now: t0.adding(seconds: 1)))?.1 == .revision(3))

        // An offline record: nothing to write, once the bucket agrees.
        var offline = planner(.heartbeat, replica: record(status: .offline, revision: 4))
        #expect(offline.next(now: t0) == .readFromBucket)
        offline.confirmed(record(status: .offline, revision: 4))
        guard case .answer(let reads) = offline.next(now: t0) else {
            Issue.record("expected an answer without a write")
            return
        }
        #expect(reads.single.status == .offline && reads.revision == 4)
    }

    @Test func ifMatchIsConfirmedWithTheBucketBeforeA412() {
        // The replica is behind: the client saw revision 5 on another node.
        var behind = planner(.goOffline, ifMatch: .revision(5), replica: record(revision: 4))
        #expect(behind.next(now: t0) == .readFromBucket)
        behind.confirmed(record(revision: 5))
        #expect(written(behind.next(now: t0))?.1 == .revision(5))

        var stale = planner(.goOffline, ifMatch: .revision(3), replica: record(revision: 4))
        #expect(stale.next(now: t0) == .readFromBucket)
        stale.confirmed(record(revision: 4))
        #expect(failure(stale.next(now: t0)) == .preconditionFailed)
    }

    @Test func ifMatchForms() {
        for (match, holds) in [(RevisionMatch.any, true), (.oneOf([2, 4]), true), (.oneOf([2, 3]), false), (.none, false)] {
            var plan = planner(.goOffline, ifMatch: match, replica: record(revision: 4))
            if !holds {
                #expect(plan.next(now: t0) == .readFromBucket)
                plan.confirmed(record(revision: 4))
                #expect(failure(plan.next(now: t0)) == .preconditionFailed, "\(match)")
            } else {
                #expect(written(plan.next(now: t0)) != nil, "\(match)")
            }
        }
        var none = planner(.set(status: .online, message: "", ttl: 60), ifMatch: .any, replica: nil)
        #expect(none.next(now: t0) == .readFromBucket)
        none.confirmed(UserPresence?.none)
        #expect(failure(none.next(now: t0)) == .preconditionFailed, "If-Match: * needs a record")
    }

    @Test func aLostRaceWithIfMatchIs412() {
        var plan = planner(.goOffline, ifMatch: .revision(4), replica: record(revision: 4))
        _ = plan.next(now: t0)
        #expect(failure(plan.lostRace(after: .milliseconds(1))) == .preconditionFailed)
    }

    @Test func aBlindWriteRetriesOnTheNewRevisionWithGrowingPausesUntilTheDeadline() {
        var plan = planner(.set(status: .away, message: "", ttl: 60), replica: record(revision: 4), deadline: .seconds(5))
        #expect(written(plan.next(now: t0))?.1 == .revision(4))
        var pauses: [Duration] = []
        for attempt in 0..<8 {
            guard case .pauseThenReadFromBucket(let pause) = plan.lostRace(after: .milliseconds(attempt * 10)) else {
                Issue.record("a blind write retries")
                return
            }
            pauses.append(pause)
            plan.confirmed(record(revision: UInt64(5 + attempt)))
            #expect(written(plan.next(now: t0))?.1 == .revision(UInt64(5 + attempt)), "retries on the revision it read")
        }
        #expect(pauses.prefix(2).allSatisfy { $0 == .zero }, "the first retries are immediate")
        #expect(pauses.dropFirst(2).allSatisfy { $0 > .zero && $0 <= .milliseconds(50) })
        #expect(failure(plan.lostRace(after: .seconds(5))) == .unavailable, "past the deadline: certainly not applied")
    }
}
