import NATSClient
import Testing

@testable import PresenceStore

/// Every transition of the link to the bucket, without any I/O.
struct HubLinkStateMachineTests {
    typealias Machine = HubLinkStateMachine
    let bucket = StreamState(created: 1_000, firstSequence: 1, lastSequence: 50)

    /// A machine whose first watcher started on `bucket`.
    func started() -> Machine {
        var machine = Machine()
        let r1 = machine.watcherStarting(bucket, highestRevisionBefore: 0)
        #expect(!r1)
        return machine
    }

    @Test func aSlowHubIsUnreachableAfterThreeTimeoutsAndKeepsItsWatcherWhenItAnswers() {
        var machine = started()
        let r2 = machine.probeFailed(noResponders: false)
        #expect(r2 == .none)
        let r3 = machine.probeFailed(noResponders: false)
        #expect(r3 == .none)
        #expect(machine.isHubReachable)
        let r4 = machine.probeFailed(noResponders: false)
        #expect(r4 == .reportUnreachable(definitive: false))
        #expect(!machine.isHubReachable)
        let r5 = machine.probeFailed(noResponders: false)
        #expect(r5 == .none, "reported once")
        let r6 = machine.probeAnswered(bucket, highestRevisionBefore: 50)
        #expect(r6 == .reportAnswersAgain)
        #expect(machine.isHubReachable && !machine.recreatePending)
    }

    @Test func anAnswerResetsTheCountOfSlowProbes() {
        var machine = started()
        _ = machine.probeFailed(noResponders: false)
        _ = machine.probeFailed(noResponders: false)
        let r7 = machine.probeAnswered(bucket, highestRevisionBefore: 50)
        #expect(r7 == .none)
        let r8 = machine.probeFailed(noResponders: false)
        #expect(r8 == .none)
        #expect(machine.isHubReachable)
    }

    @Test func aLostHubIsUnreachableAtOnceAndCostsANewWatcherWhenItIsBack() {
        var machine = started()
        let r9 = machine.probeFailed(noResponders: true)
        #expect(r9 == .reportUnreachable(definitive: true))
        let r10 = machine.probeAnswered(bucket, highestRevisionBefore: 50)
        #expect(r10 == .recreateWatcherHubBack)
        #expect(machine.recreatePending)
        let r11 = machine.watcherStarting(bucket, highestRevisionBefore: 50)
        #expect(!r11)
        #expect(!machine.recreatePending)
    }

    @Test func aSlowHubFoundGoneByARequestAlsoCostsANewWatcher() {
        var machine = started()
        for _ in 0..<3 { _ = machine.probeFailed(noResponders: false) }
        let r12 = machine.requestFoundNoResponders()
        #expect(r12 == .none, "already reported unreachable")
        let r13 = machine.probeAnswered(bucket, highestRevisionBefore: 50)
        #expect(r13 == .recreateWatcherHubBack)
    }

    @Test func aRecreatedOrRestoredBucketIsReplaced() {
        var recreated = started()
        let newBucket = StreamState(created: 2_000, firstSequence: 1, lastSequence: 3)
        let r14 = recreated.probeAnswered(newBucket, highestRevisionBefore: 50)
        #expect(r14 == .recreateWatcherBucketReplaced(lastRevision: 3, highestSeen: 50))
        let r15 = recreated.probeAnswered(newBucket, highestRevisionBefore: 50)
        #expect(r15 == .none, "asked for once")
        let r16 = recreated.watcherStarting(newBucket, highestRevisionBefore: 50)
        #expect(r16, "the new watcher rebuilds the replica")
        let r17 = recreated.probeAnswered(newBucket, highestRevisionBefore: 3)
        #expect(r17 == .none)

        var restored = started()
        let older = StreamState(created: 1_000, firstSequence: 1, lastSequence: 40)
        let r18 = restored.probeAnswered(older, highestRevisionBefore: 50)
        #expect(r18 == .recreateWatcherBucketReplaced(lastRevision: 40, highestSeen: 50))
        let r19 = restored.watcherStarting(older, highestRevisionBefore: 50)
        #expect(r19)

        var growing = started()
        let newer = StreamState(created: 1_000, firstSequence: 1, lastSequence: 60)
        let r20 = growing.probeAnswered(newer, highestRevisionBefore: 55)
        #expect(r20 == .none, "the same bucket, further on")
    }

    @Test func aReconnectionCostsANewWatcherAndALossIsReportedOnce() {
        var machine = started()
        let r21 = machine.connectionLost()
        #expect(r21 == .reportConnectionLost)
        let r22 = machine.connectionLost()
        #expect(r22 == .none)
        let r23 = machine.reconnected()
        #expect(r23 == .recreateWatcherReconnected)
        #expect(machine.recreatePending)
        let r24 = machine.connectionLost()
        #expect(r24 == .reportConnectionLost, "a new loss is reported again")
    }

    @Test func aStoppedFeedReportsNothing() {
        var machine = started()
        machine.stop()
        let r25 = machine.connectionLost()
        #expect(r25 == .none)
        let r26 = machine.reconnected()
        #expect(r26 == .none)
    }

    @Test func theFirstWatcherRebuildsOnlyWhenTheBucketIsBehindTheReplica() {
        var fresh = Machine()
        let r27 = fresh.watcherStarting(bucket, highestRevisionBefore: 0)
        #expect(!r27)
        var behind = Machine()
        let r28 = behind.watcherStarting(bucket, highestRevisionBefore: 51)
        #expect(r28)
    }

    /// A machine whose watcher on `bucket` is set up (and so must deliver).
    func synced() -> Machine {
        var machine = started()
        let action = machine.watcherCreated()
        #expect(action == .none)
        return machine
    }

    @Test func aLiveWatcherThatDeliversNothingWhileTheBucketIsAheadIsRecreatedOnce() {
        var machine = synced()
        let ahead = StreamState(created: 1_000, firstSequence: 1, lastSequence: 60)
        for probe in 1..<Machine.stalledProbesBeforeRecreate {
            let action = machine.probeAnswered(ahead, highestRevisionBefore: 50, deliveredBefore: 50)
            #expect(action == .none, "probe \(probe) is not yet a stall")
        }
        let stalled = machine.probeAnswered(ahead, highestRevisionBefore: 50, deliveredBefore: 50)
        #expect(stalled == .recreateWatcherStalled(lastRevision: 60, delivered: 50))
        #expect(machine.recreatePending)
        // The new watcher stalls at the same last revision (one no watcher delivers): no loop.
        _ = machine.watcherStarting(ahead, highestRevisionBefore: 50)
        _ = machine.watcherCreated()
        for _ in 0..<(3 * Machine.stalledProbesBeforeRecreate) {
            let action = machine.probeAnswered(ahead, highestRevisionBefore: 50, deliveredBefore: 50)
            #expect(action == .none)
        }
        // A later write: not a stall at once (it may be on its way to the watcher), but after
        // a stall of its own.
        let further = StreamState(created: 1_000, firstSequence: 1, lastSequence: 61)
        var actions: [Machine.Action] = []
        for _ in 0..<Machine.stalledProbesBeforeRecreate {
            actions.append(machine.probeAnswered(further, highestRevisionBefore: 50, deliveredBefore: 50))
        }
        #expect(actions.dropLast().allSatisfy { $0 == .none }, "\(actions)")
        #expect(actions.last == .recreateWatcherStalled(lastRevision: 61, delivered: 50))
    }

    @Test func aWatcherThatKeepsDeliveringOrIsBeingSetUpIsNeverStalled() {
        var machine = synced()
        for step in 0..<(3 * Machine.stalledProbesBeforeRecreate) {
            // Always behind the bucket, but moving: a busy, healthy watcher.
            let bucketNow = StreamState(created: 1_000, firstSequence: 1, lastSequence: UInt64(100 + 10 * step))
            let action = machine.probeAnswered(bucketNow, highestRevisionBefore: 50, deliveredBefore: UInt64(95 + 10 * step))
            #expect(action == .none)
        }
        var loading = started()  // the watcher is being set up: that may take a minute
        let ahead = StreamState(created: 1_000, firstSequence: 1, lastSequence: 60)
        for _ in 0..<(3 * Machine.stalledProbesBeforeRecreate) {
            let action = loading.probeAnswered(ahead, highestRevisionBefore: 0, deliveredBefore: 0)
            #expect(action == .none)
        }
        var caughtUp = synced()
        for _ in 0..<(3 * Machine.stalledProbesBeforeRecreate) {
            let action = caughtUp.probeAnswered(bucket, highestRevisionBefore: 50, deliveredBefore: 50)
            #expect(action == .none, "a quiet bucket the watcher has fully delivered")
        }
    }
}
