import NATSClient
import Testing

@testable import PresenceStore

/// Every transition of the link to the bucket, without any I/O: the link is a string, a
/// watcher a number, and time is what each test passes in.
struct BucketLinkStateMachineTests {
    typealias Machine = BucketLinkStateMachine<String, Int>
    let bucket = StreamState(created: 1_000, firstSequence: 1, lastSequence: 50)
    let start = ContinuousClock.now

    /// A bound machine whose first watcher started on `bucket` (being set up).
    func started(center: Bool = false) -> Machine {
        var machine = Machine(isCenter: center)
        let r1 = machine.bound("link", bucketState: bucket)
        #expect(r1 == .run)
        let replaced = machine.watcherStarting(bucket, highestRevisionBefore: 0)
        #expect(!replaced)
        return machine
    }

    /// A machine whose watcher (number 1) on `bucket` is set up (and so must deliver).
    func synced(center: Bool = false) -> Machine {
        var machine = started(center: center)
        let r2 = machine.watcherCreated(1)
        #expect(r2 == .consume)
        return machine
    }

    /// A machine whose watcher loaded its initial values.
    func live(center: Bool = false) -> Machine {
        var machine = synced(center: center)
        machine.initialValuesLoaded()
        #expect(machine.notReady(isConnected: true) == nil)
        return machine
    }

    // MARK: Binding

    @Test func aFailedBindRetriesWithADoublingPauseAndLogsOnlyANewCause() {
        var machine = Machine(isCenter: false)
        #expect(machine.notReady(isConnected: true) == .connecting(failure: nil))
        let r3 = machine.bindFailed(cause: "refused")
        #expect(r3 == .retry(after: .milliseconds(100), logCause: true))
        let r4 = machine.bindFailed(cause: "refused")
        #expect(r4 == .retry(after: .milliseconds(200), logCause: false))
        let r5 = machine.bindFailed(cause: "refused")
        #expect(r5 == .retry(after: .milliseconds(400), logCause: false))
        let r6 = machine.bindFailed(cause: "timed out")
        #expect(r6 == .retry(after: .milliseconds(800), logCause: true))
        for _ in 0..<20 { _ = machine.bindFailed(cause: "timed out") }
        let r7 = machine.bindFailed(cause: "timed out")
        #expect(r7 == .retry(after: .seconds(1), logCause: false), "at most a second")
        #expect(machine.notReady(isConnected: true) == .connecting(failure: "timed out"))
        #expect(machine.link == nil && machine.isHubReachable)
    }

    @Test func aBoundLinkWaitsForItsWatcherThenForItsInitialValues() {
        var machine = Machine(isCenter: false)
        let r8 = machine.bound("link", bucketState: bucket)
        #expect(r8 == .run)
        #expect(machine.link == "link")
        #expect(machine.notReady(isConnected: true) == .notWatching(lastError: nil))
        _ = machine.watcherStarting(bucket, highestRevisionBefore: 0)
        let r9 = machine.watcherFailedToStart("no consumer")
        #expect(r9 == .milliseconds(250))
        let r10 = machine.watcherFailedToStart("no consumer")
        #expect(r10 == .milliseconds(500))
        #expect(machine.notReady(isConnected: true) == .notWatching(lastError: "no consumer"))
        for _ in 0..<10 { _ = machine.watcherFailedToStart("no consumer") }
        let r11 = machine.watcherFailedToStart("no consumer")
        #expect(r11 == .seconds(5), "at most five seconds")
        let r12 = machine.watcherCreated(7)
        #expect(r12 == .consume)
        #expect(machine.notReady(isConnected: true) == .loading)
        let r13 = machine.watcherFailedToStart("again")
        #expect(r13 == .milliseconds(250), "a watcher that started resets the pause")
        let r14 = machine.watcherCreated(8)
        #expect(r14 == .consume)
        machine.initialValuesLoaded()
        #expect(machine.notReady(isConnected: true) == nil)
        #expect(machine.notReady(isConnected: false) == .disconnected, "the connection is asked")
        machine.watcherEnded(error: "consumer deleted")
        #expect(machine.notReady(isConnected: true) == .notWatching(lastError: "consumer deleted"))
        let r15 = machine.bindFailed(cause: "late")
        #expect(r15 == .giveUp, "a bound link never binds again")
    }

    @Test func aBoundLinkKeepsItsLinkAndItsLastWatcherErrorAcrossRetries() {
        var machine = started()
        let second = machine.bound("second", bucketState: bucket)
        #expect(second == .stop, "another attempt's link is closed, not taken")
        #expect(machine.link == "link")
        _ = machine.watcherFailedToStart("no consumer")
        let replaced = machine.watcherStarting(bucket, highestRevisionBefore: 0)
        #expect(!replaced)
        #expect(machine.notReady(isConnected: true) == .notWatching(lastError: "no consumer"), "until a watcher is set up")
        let created = machine.watcherCreated(1)
        #expect(created == .consume)
        machine.watcherEnded(error: nil)
        #expect(machine.notReady(isConnected: true) == .notWatching(lastError: nil))
    }

    @Test func aCenterThatGrewItsReplicasWhileBindingWaitsTheIntervalBeforeTheNext() {
        let start = ContinuousClock.now
        var machine = Machine(isCenter: true)
        let outcome = machine.bound("link", bucketState: bucket, grewAt: start)
        #expect(outcome == .run)
        let early = machine.takeGrowAttempt(bucketReplicas: 1, wanted: 3, now: start + .seconds(1))
        #expect(!early)
        let due = machine.takeGrowAttempt(bucketReplicas: 1, wanted: 3, now: start + Machine.growRetryInterval)
        #expect(due)
    }

    @Test func aStoppedLinkGivesUpClosesWhatItBoundAndStopsItsWatcher() {
        var connecting = Machine(isCenter: false)
        let r16 = connecting.stop()
        #expect(r16 == nil)
        #expect(connecting.isStopped)
        let r17 = connecting.bindFailed(cause: "refused")
        #expect(r17 == .giveUp)
        let r18 = connecting.bound("late link", bucketState: bucket)
        #expect(r18 == .stop, "a link bound after the stop is closed (by the one who bound it)")
        guard case .stopped(let held) = connecting.state else { Issue.record("not stopped"); return }
        #expect(held == nil, "the stopped machine does not take it")

        var watching = synced()
        let r19 = watching.stop()
        #expect(r19 == 1, "its watcher is stopped")
        let r20 = watching.stop()
        #expect(r20 == nil, "once")
        #expect(watching.notReady(isConnected: true) == .stopped)
        #expect(watching.link == nil)
        guard case .stopped(let bound) = watching.state else { Issue.record("not stopped"); return }
        #expect(bound == "link")
        let r21 = watching.watcherCreated(2)
        #expect(r21 == .discard)
        #expect(!watching.watcherGoesOn)
    }

    // MARK: Reachability

    @Test func aSlowHubIsUnreachableAfterThreeTimeoutsAndKeepsItsWatcherWhenItAnswers() {
        var machine = live()
        let r22 = machine.probeFailed(noResponders: false)
        #expect(r22 == .none)
        let r23 = machine.probeFailed(noResponders: false)
        #expect(r23 == .none)
        #expect(machine.isHubReachable)
        let r24 = machine.probeFailed(noResponders: false)
        #expect(r24 == .reportUnreachable(definitive: false))
        #expect(!machine.isHubReachable)
        #expect(machine.notReady(isConnected: true) == .hubUnreachable)
        let r25 = machine.probeFailed(noResponders: false)
        #expect(r25 == .none, "reported once")
        let r26 = machine.probeAnswered(bucket, highestRevisionBefore: 50)
        #expect(r26 == .reportAnswersAgain)
        #expect(machine.isHubReachable && machine.watcherGoesOn)
        #expect(machine.notReady(isConnected: true) == nil)
    }

    @Test func anAnswerResetsTheCountOfSlowProbes() {
        var machine = started()
        _ = machine.probeFailed(noResponders: false)
        _ = machine.probeFailed(noResponders: false)
        let r27 = machine.probeAnswered(bucket, highestRevisionBefore: 50)
        #expect(r27 == .none)
        let r28 = machine.probeFailed(noResponders: false)
        #expect(r28 == .none)
        #expect(machine.isHubReachable)
    }

    @Test func aLostHubIsUnreachableAtOnceAndCostsANewWatcherWhenItIsBack() {
        var machine = synced()
        let r29 = machine.probeFailed(noResponders: true)
        #expect(r29 == .reportUnreachable(definitive: true))
        let r30 = machine.probeAnswered(bucket, highestRevisionBefore: 50)
        #expect(r30 == .recreateWatcher(.hubBack, stopping: 1))
        #expect(!machine.watcherGoesOn, "the idle watcher ends")
        let r31 = machine.watcherStarting(bucket, highestRevisionBefore: 50)
        #expect(!r31)
        #expect(machine.watcherGoesOn)
    }

    @Test func aSlowHubFoundGoneByARequestAlsoCostsANewWatcher() {
        var machine = started()
        for _ in 0..<3 { _ = machine.probeFailed(noResponders: false) }
        let r32 = machine.requestFoundNoResponders()
        #expect(r32 == .none, "already reported unreachable")
        let r33 = machine.probeAnswered(bucket, highestRevisionBefore: 50)
        #expect(r33 == .recreateWatcher(.hubBack, stopping: nil))
    }

    @Test func nothingIsReportedBeforeTheBind() {
        var machine = Machine(isCenter: false)
        let r34 = machine.probeFailed(noResponders: true)
        #expect(r34 == .none)
        let r35 = machine.requestFoundNoResponders()
        #expect(r35 == .none)
        let r36 = machine.connectionLost()
        #expect(r36 == .none)
        let r37 = machine.reconnected()
        #expect(r37 == .none)
        let r38 = machine.probeAnswered(bucket, highestRevisionBefore: 0)
        #expect(r38 == .none)
        let r39 = machine.watcherStarting(bucket, highestRevisionBefore: 0)
        #expect(!r39)
        let r40 = machine.watcherCreated(1)
        #expect(r40 == .discard)
        #expect(machine.isHubReachable)
    }

    // MARK: The bucket's identity

    @Test func aRecreatedOrRestoredBucketIsReplaced() {
        var recreated = synced()
        let newBucket = StreamState(created: 2_000, firstSequence: 1, lastSequence: 3)
        let r41 = recreated.probeAnswered(newBucket, highestRevisionBefore: 50)
        #expect( r41 == .recreateWatcher(.bucketReplaced(lastRevision: 3, highestSeen: 50), stopping: 1))
        let r42 = recreated.probeAnswered(newBucket, highestRevisionBefore: 50)
        #expect(r42 == .none, "asked for once")
        let r43 = recreated.watcherStarting(newBucket, highestRevisionBefore: 50)
        #expect(r43, "the new watcher rebuilds the replica")
        let r44 = recreated.probeAnswered(newBucket, highestRevisionBefore: 3)
        #expect(r44 == .none)

        var restored = started()
        let older = StreamState(created: 1_000, firstSequence: 1, lastSequence: 40)
        let r45 = restored.probeAnswered(older, highestRevisionBefore: 50)
        #expect( r45 == .recreateWatcher(.bucketReplaced(lastRevision: 40, highestSeen: 50), stopping: nil))
        let r46 = restored.watcherStarting(older, highestRevisionBefore: 50)
        #expect(r46)

        var growing = started()
        let newer = StreamState(created: 1_000, firstSequence: 1, lastSequence: 60)
        let r47 = growing.probeAnswered(newer, highestRevisionBefore: 55)
        #expect(r47 == .none, "the same bucket, further on")
    }

    @Test func theFirstWatcherRebuildsOnlyWhenTheBucketIsBehindTheReplica() {
        var fresh = Machine(isCenter: false)
        _ = fresh.bound("link", bucketState: bucket)
        let r48 = fresh.watcherStarting(bucket, highestRevisionBefore: 0)
        #expect(!r48)
        var behind = Machine(isCenter: false)
        _ = behind.bound("link", bucketState: bucket)
        let r49 = behind.watcherStarting(bucket, highestRevisionBefore: 51)
        #expect(r49)
    }

    // MARK: The connection

    @Test func aReconnectionCostsANewWatcherAndALossIsReportedOnce() {
        var machine = synced()
        let r50 = machine.connectionLost()
        #expect(r50 == .reportConnectionLost)
        let r51 = machine.connectionLost()
        #expect(r51 == .none)
        let r52 = machine.reconnected()
        #expect(r52 == .recreateWatcher(.reconnected, stopping: 1))
        #expect(!machine.watcherGoesOn)
        let r53 = machine.connectionLost()
        #expect(r53 == .reportConnectionLost, "a new loss is reported again")
    }

    @Test func aWatcherSetUpWhileAReconnectionAskedForAnotherIsDiscarded() {
        var machine = started()
        let r54 = machine.reconnected()
        #expect(r54 == .recreateWatcher(.reconnected, stopping: nil))
        let r55 = machine.watcherCreated(2)
        #expect(r55 == .discard)
        #expect(machine.notReady(isConnected: true) == .notWatching(lastError: nil))
        _ = machine.watcherStarting(bucket, highestRevisionBefore: 50)
        let r56 = machine.watcherCreated(3)
        #expect(r56 == .consume)
    }

    @Test func aStoppedLinkReportsNothing() {
        var machine = synced()
        _ = machine.stop()
        let r57 = machine.connectionLost()
        #expect(r57 == .none)
        let r58 = machine.reconnected()
        #expect(r58 == .none)
        let r59 = machine.probeFailed(noResponders: true)
        #expect(r59 == .none)
    }

    // MARK: Stalls

    @Test func aLiveWatcherThatDeliversNothingWhileTheBucketIsAheadIsRecreatedOnce() {
        var machine = synced()
        let ahead = StreamState(created: 1_000, firstSequence: 1, lastSequence: 60)
        for probe in 1..<Machine.stalledProbesBeforeRecreate {
            let action = machine.probeAnswered(ahead, highestRevisionBefore: 50, deliveredBefore: 50)
            #expect(action == .none, "probe \(probe) is not yet a stall")
        }
        let stalled = machine.probeAnswered(ahead, highestRevisionBefore: 50, deliveredBefore: 50)
        #expect(stalled == .recreateWatcher(.stalled(lastRevision: 60, delivered: 50), stopping: 1))
        #expect(!machine.watcherGoesOn)
        // The new watcher stalls at the same last revision (one no watcher delivers): no loop.
        machine.watcherEnded(error: nil)
        _ = machine.watcherStarting(ahead, highestRevisionBefore: 50)
        _ = machine.watcherCreated(2)
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
        #expect(actions.last == .recreateWatcher(.stalled(lastRevision: 61, delivered: 50), stopping: 2))
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
            let r60 = loading.probeAnswered(ahead, highestRevisionBefore: 0, deliveredBefore: 0)
            #expect(r60 == .none)
        }
        var caughtUp = synced()
        for _ in 0..<(3 * Machine.stalledProbesBeforeRecreate) {
            let action = caughtUp.probeAnswered(bucket, highestRevisionBefore: 50, deliveredBefore: 50)
            #expect(action == .none, "a quiet bucket the watcher has fully delivered")
        }
    }
}
