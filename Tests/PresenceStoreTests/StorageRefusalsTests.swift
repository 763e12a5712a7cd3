import PresenceCore
import Testing

@testable import PresenceStore

/// Readiness while JetStream refuses writes for lack of storage (issue: a limit reached with
/// space on the disk left a node answering 507 while it said ready).
struct StorageRefusalsTests {
    let start = ContinuousClock.now

    @Test func noRefusalNoProblemAndNoProbe() {
        var refusals = StorageRefusals()
        #expect(!refusals.isRefusing)
        let probe = refusals.takeProbe(now: start + .seconds(60))
        #expect(!probe)
    }

    @Test func aRefusalMakesTheStoreNotReadyAndSaysWhatToDo() {
        var refusals = StorageRefusals()
        refusals.refused(at: start)
        #expect(refusals.isRefusing)
        #expect(StorageRefusals.problem.contains("nats.max_store"))
    }

    @Test func itLastsUntilAWriteIsStoredWhateverTheTime() {
        var refusals = StorageRefusals()
        refusals.refused(at: start)
        _ = refusals.takeProbe(now: start + .seconds(3_600))
        #expect(refusals.isRefusing, "without a stored write it never lapses")
        refusals.stored()
        #expect(!refusals.isRefusing)
    }

    @Test func aProbeIsDueEveryIntervalWhileRefused() {
        var refusals = StorageRefusals()
        refusals.refused(at: start)
        let early = refusals.takeProbe(now: start + .seconds(1))
        #expect(!early)
        let due = refusals.takeProbe(now: start + StorageRefusals.probeInterval)
        #expect(due)
        let again = refusals.takeProbe(now: start + StorageRefusals.probeInterval + .seconds(1))
        #expect(!again, "taken")
        // Refusals meanwhile do not push the next probe back.
        refusals.refused(at: start + .seconds(3))
        let next = refusals.takeProbe(now: start + StorageRefusals.probeInterval * 2)
        #expect(next)
        refusals.stored()
        let after = refusals.takeProbe(now: start + .seconds(60))
        #expect(!after, "no probes once writes are stored")
    }

    @Test func theProbeKeyIsNoUsersKey() {
        #expect(UserKeyCodec.userID(forKey: StorageRefusals.probeKey) == nil)
    }
}
