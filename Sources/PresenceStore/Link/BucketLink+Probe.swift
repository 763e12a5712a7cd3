import Logging
import NATSClient
import PresenceCore

/// The probe: every `hubProbeInterval` it asks the bucket's state, so a leaf knows at once
/// when it lost the hub and when the hub is back, and that the bucket is still the one the
/// replica mirrors (not recreated, not restored from an older copy). A center also grows the
/// bucket's replicas and recreates a deleted bucket; any node probes storage while JetStream
/// refuses writes.
extension BucketLink {
    func probeHub() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.hubProbeInterval)
            } catch {
                return
            }
            guard let bucket = bound?.bucket else { continue }
            await probe(bucket)
        }
    }

    private func probe(_ bucket: KeyValueBucket) async {
        // Read before asking: every revision applied by then is in the answer's bucket.
        let (generation, highestBefore) = replica.revisionStamp
        let deliveredBefore = delivered.withLockedValue { $0 }
        do {
            let bucketState = try await bucket.state(timeout: configuration.hubProbeTimeout)
            // An answer from before a reset of the replica is only a sign of life.
            let highest = replica.generation == generation ? highestBefore : 0
            handle { $0.probeAnswered(bucketState, highestRevisionBefore: highest, deliveredBefore: deliveredBefore) }
            await growReplicasIfDue(bucket, bucketReplicas: bucketState.replicas)
            await addAuditStreamIfDue(bucket.jetStream)
            await probeStorageIfRefused(bucket)
        } catch let error where error.isStreamNotFound && configuration.domain == nil {
            // A center whose bucket was deleted while it runs: create it again (the new,
            // empty bucket then rebuilds the replica); a leaf waits for its center to do so.
            logger.warning("the presence bucket is gone; creating it again")
            handle { $0.probeFailed(noResponders: true) }
            do {
                try await bucket.recreateIfMissing(configuration.bucketConfiguration)
                try await bucket.refuseRollups()
            } catch {
                logger.warning("cannot create the presence bucket again", metadata: ["error": "\(error)"])
            }
        } catch {
            handle { $0.probeFailed(noResponders: error.isNoResponders || error.isStreamNotFound) }
        }
    }

    /// Raises a center's bucket replicas to `nats.replicas` when it keeps fewer (a standalone
    /// center restarted as one of a cluster keeps its data: JetStream copies it to the new
    /// peers). Until enough centers are up this fails; the probe tries again every
    /// ``BucketLinkStateMachine/growRetryInterval``. Never lowers them.
    /// - Parameter bucketReplicas: what the last probe (or the bind) found.
    func growReplicasIfDue(_ bucket: KeyValueBucket, bucketReplicas: Int) async {
        let wanted = configuration.replicas
        guard machine.withLockedValue({ $0.takeGrowAttempt(bucketReplicas: bucketReplicas, wanted: wanted, now: .now) })
        else { return }
        await growReplicas(bucket)
        // The audit stream's copies grow with the bucket's: due again, the probe applies them next.
        auditStreamDue.withLockedValue { $0 = .now }
    }

    /// One try to raise the bucket's replicas to `nats.replicas` (a no-op when it keeps as many).
    func growReplicas(_ bucket: KeyValueBucket) async {
        let wanted = configuration.replicas
        do {
            if try await bucket.growReplicas(to: wanted) {
                logger.notice("the presence bucket now keeps more copies", metadata: ["replicas": "\(wanted)"])
            }
        } catch {
            logger.warning(
                "cannot give the presence bucket its replicas yet (are enough centers up?); retrying",
                metadata: ["replicas": "\(wanted)", "error": "\(error)"])
        }
    }

    /// While JetStream refuses writes for lack of storage, a small write every few seconds
    /// finds out when it takes them again (``StorageRefusals``).
    private func probeStorageIfRefused(_ bucket: KeyValueBucket) async {
        guard machine.withLockedValue({ $0.takeStorageProbe(now: .now) }) else { return }
        do {
            _ = try await bucket.put(StorageRefusals.probeKey, value: Array(configuration.nodeID.utf8), expecting: .any)
            machine.withLockedValue { $0.writeStored() }
            logger.notice("JetStream takes writes again")
        } catch {
            if error.isInsufficientStorage { machine.withLockedValue { $0.storageRefused(now: .now) } }
        }
    }

    /// Feeds one event to the machine and carries out its action outside the lock.
    @discardableResult
    func handle(_ event: (inout Machine) -> Machine.Action) -> Machine.Action {
        let action = machine.withLockedValue(event)
        switch action {
        case .none:
            break
        case .reportUnreachable(let definitive):
            logger.warning(
                "the presence bucket is not reachable; serving reads from the replica, refusing writes",
                metadata: ["cause": "\(configuration.hubProblem?() ?? (definitive ? "no responders" : "no answer in time"))"])
        case .reportAnswersAgain:
            logger.info("the presence bucket answers again")
            // A leaf's slow answers may have been its link to the hub; a center's JetStream
            // being slow says nothing about core NATS, where it kept hearing heartbeats.
            if isLeaf { plane.heardFromNow() }
        case .reportConnectionLost:
            logger.warning("NATS connection lost; reads are served from the replica, writes refused")
        case .recreateWatcher(let why, let watcher):
            report(why)
            watcher?.stop()
            // Back from a gap in which heartbeats went unheard: the connection, or a leaf's hub.
            switch why {
            case .reconnected: plane.heardFromNow()
            case .hubBack: if isLeaf { plane.heardFromNow() }
            case .bucketReplaced, .stalled: break  // a replaced bucket's reset moves it (feedReplica)
            }
        }
        return action
    }

    private func report(_ recreation: Machine.Recreation) {
        switch recreation {
        case .hubBack:
            logger.info("the presence bucket is reachable again; resynchronising the replica")
        case .bucketReplaced(let lastRevision, let highestSeen):
            logger.warning(
                "the presence bucket was recreated or restored from an older copy; rebuilding the replica",
                metadata: ["last_revision": "\(lastRevision)", "highest_seen": "\(highestSeen)"])
        case .reconnected:
            logger.info("NATS connection re-established; resynchronising the replica")
        case .stalled(let lastRevision, let delivered):
            logger.warning(
                "the KV watcher delivers nothing while the bucket is ahead of it; recreating it",
                metadata: ["last_revision": "\(lastRevision)", "delivered": "\(delivered)"])
            metrics.watcherStalls.increment()
        }
    }
}
