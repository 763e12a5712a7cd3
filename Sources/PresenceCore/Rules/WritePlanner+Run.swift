extension WritePlanner {
    /// Drives the plan to its end: the one loop both repositories run.
    ///
    /// - Parameters:
    ///   - now: the clock the plan reads at each step.
    ///   - read: confirms with the bucket: its current record of the user.
    ///   - write: stores a record with a compare-and-set on `expecting`; nil when the race was
    ///     lost (the plan then retries or gives up), any other failure thrown.
    /// - Returns: the record after the change, as it reads.
    public mutating func run(
        now: () -> Timestamp,
        read: () async throws(PresenceError) -> UserPresence?,
        write: (UserPresence, Expectation) async throws(PresenceError) -> StoredPresence?
    ) async throws(PresenceError) -> StoredPresence {
        let began = ContinuousClock.now
        var step = next(now: now())
        while true {
            switch step {
            case .readFromBucket:
                confirmed(try await read())
                step = next(now: now())
            case .pauseThenReadFromBucket(let pause):
                // A cancelled pause only shortens the wait; the deadline still ends the loop.
                if pause > .zero { try? await Task.sleep(for: pause) }
                confirmed(try await read())
                step = next(now: now())
            case .answer(let record):
                return StoredPresence(record)
            case .fail(let error):
                throw error
            case .write(let record, let expecting):
                if let stored = try await write(record, expecting) { return stored }
                step = lostRace(after: ContinuousClock.now - began)
            }
        }
    }
}
