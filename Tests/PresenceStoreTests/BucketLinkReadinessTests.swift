import NATSClient
import Testing

@testable import PresenceStore

/// The link's readiness beyond the watcher: storage refusals, a center's cluster leader and
/// the growth of its replicas; time is what each test passes in.
struct BucketLinkReadinessTests {
    typealias Machine = BucketLinkStateMachine<String, Int>
    let start = ContinuousClock.now
    let single = StreamState(created: 1_000, firstSequence: 1, lastSequence: 50)

    func live(center: Bool, bucket: StreamState) -> Machine {
        var machine = Machine(isCenter: center)
        _ = machine.bound("link", bucketState: bucket)
        _ = machine.watcherStarting(bucket, highestRevisionBefore: 0)
        _ = machine.watcherCreated(1)
        machine.initialValuesLoaded()
        return machine
    }

    @Test func aStorageRefusalMakesTheLinkNotReadyUntilAWriteIsStoredAndProbesMeanwhile() {
        var machine = live(center: true, bucket: single)
        let r1 = machine.takeStorageProbe(now: start + .seconds(60))
        #expect(!r1, "no probe without a refusal")
        machine.storageRefused(now: start)
        #expect(machine.notReady(isConnected: false) == .storageRefused, "checked first")
        let r2 = machine.takeStorageProbe(now: start + .seconds(1))
        #expect(!r2)
        let r3 = machine.takeStorageProbe(now: start + StorageRefusals.probeInterval)
        #expect(r3)
        let r4 = machine.takeStorageProbe(now: start + StorageRefusals.probeInterval + .seconds(1))
        #expect(!r4, "taken")
        #expect(machine.notReady(isConnected: true) == .storageRefused, "whatever the time")
        machine.writeStored()
        #expect(machine.notReady(isConnected: true) == nil)
        let r5 = machine.takeStorageProbe(now: start + .seconds(600))
        #expect(!r5)
    }

    @Test func aClusteredCenterIsReadyOnlyWhileItsBucketHasALeader() {
        let peers = [StreamClusterState.Peer(name: "c2", current: true, offline: false, lag: 0, activeSeconds: 0.1)]
        let electing = clustered(leader: nil, peers: peers)
        var center = live(center: true, bucket: electing)
        #expect(center.notReady(isConnected: true) == .noLeader)
        _ = center.probeAnswered(clustered(leader: "c1", peers: peers), highestRevisionBefore: 0)
        #expect(center.notReady(isConnected: true) == nil, "a probe's answer counts")
        let leaf = live(center: false, bucket: electing)
        #expect(leaf.notReady(isConnected: true) == nil, "a leaf's hub cluster is not its concern")
    }

    @Test func aRestartedClusteredCenterIsReadyOnlyOnceItsOwnCopyIsCurrent() {
        func peer(_ name: String, current: Bool) -> StreamClusterState.Peer {
            StreamClusterState.Peer(name: name, current: current, offline: false, lag: current ? 0 : 900, activeSeconds: 0.1)
        }
        var center = Machine(isCenter: true, serverName: "c2")
        _ = center.bound("link", bucketState: clustered(leader: "c1", peers: [peer("c2", current: false), peer("c3", current: true)]))
        _ = center.watcherStarting(single, highestRevisionBefore: 0)
        _ = center.watcherCreated(1)
        center.initialValuesLoaded()
        #expect(center.notReady(isConnected: true) == .copyCatchingUp)
        _ = center.probeAnswered(
            clustered(leader: "c1", peers: [peer("c2", current: true), peer("c3", current: false)]), highestRevisionBefore: 0)
        #expect(center.notReady(isConnected: true) == nil, "its own copy is current; another's is not its concern")
        _ = center.probeAnswered(clustered(leader: "c2", peers: [peer("c1", current: false)]), highestRevisionBefore: 0)
        #expect(center.notReady(isConnected: true) == nil, "the leader's copy is the current one")
        _ = center.probeAnswered(clustered(leader: "c1", peers: [peer("c3", current: true)]), highestRevisionBefore: 0)
        #expect(center.notReady(isConnected: true) == nil, "a center that keeps no copy (R3 of five) has nothing to catch up")
    }

    @Test func aCenterGrowsItsReplicasEveryFiveSecondsUntilItKeepsEnough() {
        var center = live(center: true, bucket: single)
        let r6 = center.takeGrowAttempt(bucketReplicas: 1, wanted: 3, now: start)
        #expect(r6)
        let r7 = center.takeGrowAttempt(bucketReplicas: 1, wanted: 3, now: start + .seconds(4))
        #expect(!r7)
        let r8 = center.takeGrowAttempt(bucketReplicas: 1, wanted: 3, now: start + Machine.growRetryInterval)
        #expect(r8)
        let r9 = center.takeGrowAttempt(bucketReplicas: 3, wanted: 3, now: start + .seconds(60))
        #expect(!r9, "enough")
        let r10 = center.takeGrowAttempt(bucketReplicas: 5, wanted: 3, now: start + .seconds(60))
        #expect(!r10, "never lowered")
        var leaf = live(center: false, bucket: single)
        let r11 = leaf.takeGrowAttempt(bucketReplicas: 1, wanted: 3, now: start)
        #expect(!r11, "a leaf never grows the bucket")
        var unbound = Machine(isCenter: true)
        let r12 = unbound.takeGrowAttempt(bucketReplicas: 1, wanted: 3, now: start)
        #expect(!r12, "nothing before the bind")
    }

    func clustered(leader: String?, peers: [StreamClusterState.Peer]) -> StreamState {
        var state = single
        state.replicas = 3
        state.cluster = StreamClusterState(name: "centers", leader: leader, replicas: peers)
        return state
    }
}
