internal import CNATS

extension KeyValueBucket {
    /// The condition a put must meet.
    public enum Expectation: Sendable, Equatable {
        /// The key must have no value yet.
        case noValue
        /// The key's last revision must be this one.
        case revision(UInt64)
        /// None: the value replaces whatever the key has.
        case any
    }

    /// Stores `value` under `key` if `expectation` holds; returns the new revision once
    /// JetStream has acknowledged it (or fails after the context's timeout).
    ///
    /// The publish is sent from the calling thread without waiting on the network (it waits
    /// only when the context's ``AsyncPublishing/maxPending`` publishes are in flight, at most
    /// its `stallWait`); the task resumes from the acknowledgement handler.
    /// - Parameter headers: NATS message headers stored with the value (e.g. a W3C
    ///   `traceparent`); JetStream keeps them, and core subscribers of the subject see them.
    /// - Throws: ``NATSError`` whose `isWrongLastSequence` is true when the expectation failed.
    public func put(
        _ key: String, value: [UInt8], expecting expectation: Expectation, headers: [(name: String, value: String)] = []
    ) async throws(NATSError) -> UInt64 {
        try await publish(key, value: value, headers: headers, expecting: expectation, context: "KV put")
    }

    /// Deletes `key` (a delete marker, as `kvStore_Delete` writes) if its last revision is
    /// still `revision`; returns the marker's revision once JetStream acknowledged it.
    /// - Throws: ``NATSError`` whose `isWrongLastSequence` is true when the key changed since.
    public func delete(_ key: String, expectingRevision revision: UInt64) async throws(NATSError) -> UInt64 {
        try await publish(
            key, value: [], headers: [("KV-Operation", "DEL")], expecting: .revision(revision), context: "KV delete")
    }

    private func publish(
        _ key: String, value: [UInt8], headers: [(name: String, value: String)], expecting expectation: Expectation,
        context: String
    ) async throws(NATSError) -> UInt64 {
        var options = jsPubOptions()
        try check(jsPubOptions_Init(&options), "jsPubOptions_Init")
        // At least 1 ms: 0 would switch off nats.c's timer, and a lost acknowledgement would
        // leave the waiter waiting for ever.
        options.MaxWait = max(1, jetStream.timeout.milliseconds)
        switch expectation {
        case .noValue: options.ExpectNoMessage = true
        case .revision(let revision): options.ExpectLastSubjectSeq = revision
        case .any: break
        }
        var created: OpaquePointer?
        let subject = putSubjectPrefix + key
        let status = value.withUnsafeBytes { bytes in
            natsMsg_Create(&created, subject, nil, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        }
        guard status == NATS_OK, let message = created else {
            var error = NATSError(status: status, context: context)
            error.wasNotSent = true
            throw error
        }
        for header in headers {
            let headerStatus = natsMsgHeader_Set(message, header.name, header.value)
            guard headerStatus == NATS_OK else {
                natsMsg_Destroy(message)
                var error = NATSError(status: headerStatus, context: context)
                error.wasNotSent = true
                throw error
            }
        }
        return try await jetStream.sendAwaitingAcknowledgement(message, options: &options, context: context)
    }

    /// Runs `body` on the client's thread pool with a `put` that stores a value under a key
    /// without waiting for its acknowledgement (at most the context's
    /// ``AsyncPublishing/maxPending`` in flight; `put` blocks while that many are pending).
    /// Pair with ``JetStream/waitForAsyncPublishes(timeout:)``. Used by the benchmarks to
    /// measure the raw write ceiling (one hop to the pool for a whole batch); the service
    /// itself always waits for each acknowledgement.
    public func putWithoutWaiting(
        _ body: @escaping @Sendable (_ put: (_ key: String, _ value: [UInt8]) throws(NATSError) -> Void) throws -> Void
    ) async throws {
        try await BlockingCalls.runThrowingAny {
            try body { (key, value) throws(NATSError) in
                let subject = self.putSubjectPrefix + key
                let status = value.withUnsafeBytes { bytes in
                    js_PublishAsync(self.jetStream.handle, subject, bytes.baseAddress, Int32(bytes.count), nil)
                }
                try check(status, "KV async put")
            }
        }
    }
}
