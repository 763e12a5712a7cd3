/// Whether JetStream is refusing writes for lack of storage (err_code 10023 or 10047: its
/// limit `nats.max_store`, an account limit or the disk), as the writes themselves find out.
///
/// The disk's free space (``PresenceStoreConfiguration/storageProblem``) does not tell it all:
/// a limit can be reached with space on the disk. After a refusal the store is not ready
/// until a write succeeds, or for ``window`` at most: then it reads ready again, so that the
/// next write (a load balancer sends traffic to ready nodes only) finds out whether storage
/// is back. A value: the store keeps it under its lock.
struct StorageRefusals: Equatable {
    /// How long one refusal keeps the store not ready when no write succeeds.
    static let window: Duration = .seconds(5)

    private var lastRefusal: ContinuousClock.Instant?

    /// A write was refused for lack of storage.
    mutating func refused(at now: ContinuousClock.Instant) {
        lastRefusal = now
    }

    /// A write was stored: storage is there again.
    mutating func stored() {
        lastRefusal = nil
    }

    /// Why writes are refused, while a refusal is recent and no write succeeded since.
    func problem(now: ContinuousClock.Instant) -> String? {
        guard let lastRefusal, now - lastRefusal < Self.window else { return nil }
        return
            "JetStream refuses writes for lack of storage (its limit nats.max_store or the disk is full); free space or raise nats.max_store"
    }
}
