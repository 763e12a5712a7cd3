/// Whether JetStream is refusing writes for lack of storage (err_code 10023 or 10047: its
/// limit `nats.max_store`, an account limit or the disk), as the writes themselves find out.
///
/// The disk's free space (``PresenceStoreConfiguration/storageProblem``) does not tell it all:
/// a limit can be reached with space on the disk. After a refusal the store is not ready
/// until a write is stored again; since a load balancer sends no writes to a node that is
/// not ready, the store itself writes a small probe (``probeKey``) every ``probeInterval``
/// meanwhile. A value: the store keeps it under its lock.
struct StorageRefusals: Equatable {
    /// How often the store tries a probe write while writes are refused.
    static let probeInterval: Duration = .seconds(2)
    /// The key of the probe write: not a user's key (`.` is escaped in those), one for all
    /// nodes, so it holds one small value.
    static let probeKey = "probe.storage"

    private var refusedSince: ContinuousClock.Instant?
    private var lastProbe: ContinuousClock.Instant?

    /// A write was refused for lack of storage.
    mutating func refused(at now: ContinuousClock.Instant) {
        if refusedSince == nil { refusedSince = now }
    }

    /// A write was stored: storage is there again.
    mutating func stored() {
        refusedSince = nil
        lastProbe = nil
    }

    /// Whether a probe write is due now (writes are refused and the last probe is
    /// ``probeInterval`` old); when it is, the probe counts as made.
    mutating func takeProbe(now: ContinuousClock.Instant) -> Bool {
        guard let refusedSince else { return false }
        let since = lastProbe ?? refusedSince
        guard now - since >= Self.probeInterval else { return false }
        lastProbe = now
        return true
    }

    /// Whether writes are refused, until a write is stored again.
    var isRefusing: Bool { refusedSince != nil }

    /// Why writes are refused, in an operator's words.
    static let problem =
        "JetStream refuses writes for lack of storage (its limit nats.max_store or the disk is full); free space or raise nats.max_store"
}
