import Logging
import NATSClient
import NIOConcurrencyHelpers
import PresenceCore
import ServiceLifecycle

/// Which center runs the expiry sweeper: the one holding a lease, a key in the centers' own
/// small bucket (`presence-lease`, which leaves cannot reach), refreshed every
/// ``refreshInterval`` with a compare-and-set and taken over by another center when it stays
/// unchanged for ``LeaseStateMachine/takeOverAfter`` (the rules are ``LeaseStateMachine``).
/// A standalone center takes it at its first tick.
public final class SweeperLease: Service, Sendable {
    /// The bucket that holds the lease.
    public static let bucketName = "presence-lease"
    /// The key of the sweeper's lease.
    static let key = "sweeper"

    private let store: NATSPresenceStore
    private let refreshInterval: Duration
    private let logger: Logger
    private let machine: NIOLockedValueBox<LeaseStateMachine>

    /// A lease for the center `holder` (its node id).
    /// - Parameters:
    ///   - refreshInterval: how often the key is read and, when held, refreshed.
    ///   - takeOverAfter: how long another center's lease must stay unrefreshed before this
    ///     one takes it over (more than two refresh intervals).
    public init(
        store: NATSPresenceStore, holder: String, refreshInterval: Duration = .seconds(2),
        takeOverAfter: Duration = .seconds(6), logger: Logger
    ) {
        self.store = store
        self.refreshInterval = refreshInterval
        self.logger = logger
        self.machine = NIOLockedValueBox(LeaseStateMachine(holder: holder, takeOverAfter: takeOverAfter))
    }

    /// Whether this center holds the lease (and so runs the sweeper).
    public var isHeld: Bool { machine.withLockedValue { $0.isHeld } }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown { try await self.keep() }
        await release()
        machine.withLockedValue { $0.writeFailed() }
    }

    /// On a graceful stop, deletes the lease this center holds (if it is still at the revision
    /// it wrote), so another center takes it at its next tick instead of after
    /// `takeOverAfter` (a rolling restart keeps expiry on time).
    private func release() async {
        guard let revision = machine.withLockedValue({ $0.heldRevision }) else { return }
        do {
            let bucket = try await store.auxiliaryBucket(named: Self.bucketName)
            _ = try await bucket.delete(Self.key, expectingRevision: revision)
            logger.notice("released the expiry sweeper's lease for another center")
        } catch {
            logger.warning("cannot release the expiry sweeper's lease; another center takes it over in time", metadata: ["error": "\(error)"])
        }
    }

    /// Ticks every ``refreshInterval`` until cancelled.
    private func keep() async throws {
        let origin = ContinuousClock.now
        var bucket: KeyValueBucket?
        var replicasGrown = false
        var ticks = 0
        while !Task.isCancelled {
            do {
                let current: KeyValueBucket
                if let bucket { current = bucket } else { current = try await store.auxiliaryBucket(named: Self.bucketName) }
                bucket = current
                if !replicasGrown && ticks % 15 == 0 {
                    // Like the presence bucket, the lease grows with the cluster; until enough
                    // centers are up this fails and is tried again.
                    replicasGrown = (try? await current.growReplicas(to: store.configuration.replicas)) != nil
                }
                try await tick(current, now: ContinuousClock.now - origin)
            } catch {
                lost("\(error)")
            }
            ticks += 1
            try await Task.sleep(for: refreshInterval)
        }
    }

    /// Reads the key and makes the write the rules ask for.
    func tick(_ bucket: KeyValueBucket, now: Duration) async throws {
        let entry = try await bucket.get(Self.key)
        let observation: LeaseStateMachine.Observation
        if let entry, entry.operation == .put {
            observation = .held(by: String(decoding: entry.value, as: UTF8.self), revision: entry.revision)
        } else {
            observation = .absent
        }
        let (action, holder, wasHeld) = machine.withLockedValue { machine in
            let wasHeld = machine.isHeld
            return (machine.observed(observation, at: now), machine.holder, wasHeld)
        }
        let expectation: KeyValueBucket.Expectation
        switch action {
        case .none:
            if wasHeld { logger.notice("this center no longer runs the expiry sweeper: another center holds the lease") }
            return
        case .create: expectation = .noValue
        case .write(let revision): expectation = .revision(revision)
        }
        do {
            let revision = try await bucket.put(Self.key, value: Array(holder.utf8), expecting: expectation)
            machine.withLockedValue { $0.written(revision: revision) }
            if !wasHeld { logger.notice("this center runs the expiry sweeper now (it holds the lease)") }
        } catch {
            lost(error.isWrongLastSequence ? "another center took it" : "\(error)")
        }
    }

    private func lost(_ cause: String) {
        let wasHeld = machine.withLockedValue { machine -> Bool in
            defer { machine.writeFailed() }
            return machine.isHeld
        }
        if wasHeld { logger.notice("this center no longer runs the expiry sweeper", metadata: ["cause": "\(cause)"]) }
    }
}
