import NATSClient
import Tracing

/// The spans of a store write, when the node traces (`tracing.otlp_endpoint`): one for the
/// write (`presence.kv.write`, its compare-and-set tries included) and one per publish of the
/// value until JetStream's acknowledgement (`presence.kv.ack`), whose trace context rides in
/// the message's `traceparent` header to the center (``ArrivalTracing``). Without a tracer
/// nothing is created.
struct WriteTracing: Sendable {
    let tracer: (any Tracer)?

    /// The span of one write, a child of the request's span (the task's `ServiceContext`); none
    /// for a write outside a traced request (an untraced request, the sweeper).
    func startWrite() -> (any Span)? {
        guard let tracer, let parent = ServiceContext.current else { return nil }
        return tracer.startSpan("presence.kv.write", context: parent, ofKind: .internal)
    }

    /// Publishes `value` with a `presence.kv.ack` span under `write`, and its trace context
    /// in the message's headers when the span is sampled.
    func put(
        _ bucket: KeyValueBucket, _ key: String, value: [UInt8], expecting expectation: KeyValueBucket.Expectation,
        under write: (any Span)?
    ) async throws(NATSError) -> UInt64 {
        guard let tracer, let write else { return try await bucket.put(key, value: value, expecting: expectation) }
        let span = tracer.startSpan("presence.kv.ack", context: write.context, ofKind: .producer)
        defer { span.end() }
        var headers: [(name: String, value: String)] = []
        if span.isRecording { tracer.inject(span.context, into: &headers, using: TraceHeaderInjector()) }
        do throws(NATSError) {
            let revision = try await bucket.put(key, value: value, expecting: expectation, headers: headers)
            span.attributes["presence.kv.revision"] = Int64(truncatingIfNeeded: revision)
            return revision
        } catch {
            span.attributes["presence.kv.outcome"] = error.isWrongLastSequence ? "conflict" : "error"
            if !error.isWrongLastSequence { span.recordError(error) }
            throw error
        }
    }
}
