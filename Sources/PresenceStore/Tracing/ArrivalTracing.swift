import Logging
import NATSClient
import Tracing

/// On a center that traces: a `presence.kv.receive` span for each write to the bucket that
/// comes with a sampled `traceparent` (a leaf's or this node's, ``WriteTracing``), a child of
/// the writer's `presence.kv.ack` span, so one trace shows the request on the leaf and its
/// arrival on the center.
///
/// nats.c hands a watcher's entries over without their headers, so the center reads them from
/// a core subscription to the bucket's put subjects, held while the link is bound: the span
/// marks when the write reached the center's server, not when its replica applied it.
struct ArrivalTracing: Sendable {
    let tracer: any Tracer
    let bucket: String

    /// The subjects a put reaches a center on: its own clients', and a leaf's through the
    /// JetStream domain's API prefix (mapped by the center's server).
    var subjects: [String] { ["$KV.\(bucket).>", "$JS.API.$KV.\(bucket).>"] }

    /// Subscribes on `connection`; the subscriptions end when the returned objects go away.
    func subscribe(on connection: NATSConnection, logger: Logger) async -> [NATSSubscription] {
        var subscriptions: [NATSSubscription] = []
        for subject in subjects {
            do {
                subscriptions.append(
                    try await connection.subscribe(subject, readingHeaders: ["traceparent", "tracestate"]) { message in
                        record(message)
                    })
            } catch {
                logger.warning("cannot trace writes reaching this center", metadata: ["subject": "\(subject)", "error": "\(error)"])
            }
        }
        return subscriptions
    }

    /// One span for a traced put; nothing for others.
    func record(_ message: NATSMessage) {
        guard message.headers["traceparent"] != nil else { return }
        var context = ServiceContext.topLevel
        tracer.extract(message.headers, into: &context, using: TraceHeaderExtractor())
        let span = tracer.startSpan("presence.kv.receive", context: context, ofKind: .consumer)
        span.attributes["messaging.system"] = "nats"
        // The bucket, not the subject: the subject ends with the user's key.
        span.attributes["messaging.destination.name"] = bucket
        span.end()
    }
}
