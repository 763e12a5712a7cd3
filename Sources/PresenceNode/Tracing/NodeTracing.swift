import Logging
import OTel
import ServiceLifecycle
import Tracing

/// A node's tracer and the service that exports its spans over OTLP/HTTP (swift-otel), when
/// `tracing.otlp_endpoint` is set. The tracer is the node's own, passed to the HTTP routes
/// and the store, not bootstrapped process-wide: two nodes in one process (the tests) each
/// have theirs. The service runs in the node's service group and is stopped last, so the
/// spans of the last requests are flushed.
public struct NodeTracing: Sendable {
    /// Creates the spans.
    public let tracer: any Tracer
    /// Batches and exports them; flushes on graceful shutdown.
    public let exporter: any Service

    /// The node's tracing; nil (no tracer, no exporter, nothing runs) without
    /// `tracing.otlp_endpoint`. swift-otel's `OTEL_*` environment variables still apply over these.
    static func make(_ configuration: NodeConfiguration, logger: Logger) throws -> NodeTracing? {
        guard let otel = otelConfiguration(configuration, logger: logger) else { return nil }
        let backend = try OTel.makeTracingBackend(configuration: otel)
        return NodeTracing(tracer: backend.factory, exporter: backend.service)
    }

    /// swift-otel's configuration for the node: traces only (no logs, no metrics, which the
    /// node exposes itself), W3C trace context, each span sampled as its parent (the request's
    /// sampling happens before, ``RequestTracingMiddleware``); nil without an endpoint.
    static func otelConfiguration(_ configuration: NodeConfiguration, logger: Logger) -> OTel.Configuration? {
        guard let endpoint = configuration.tracingEndpoint else { return nil }
        var otel = OTel.Configuration.default
        otel.serviceName = configuration.tracingServiceName
        otel.resourceAttributes = ["service.instance.id": configuration.nodeID]
        otel.diagnosticLogger = .custom(logger)
        otel.propagators = [.traceContext]
        otel.logs.enabled = false
        otel.metrics.enabled = false
        otel.traces.enabled = true
        // The ratio is applied by the HTTP routes before a span exists (RequestTracingMiddleware):
        // here every span follows its parent, and a root is sampled.
        otel.traces.sampler = .parentBasedAlwaysOn
        otel.traces.exporter = .otlp
        // A base URL, as OTEL_EXPORTER_OTLP_ENDPOINT: spans go to its /v1/traces.
        otel.traces.otlpExporter.endpoint = endpoint.hasSuffix("/") ? endpoint + "v1/traces" : endpoint + "/v1/traces"
        otel.traces.otlpExporter.protocol = configuration.tracingProtocol == .httpJSON ? .httpJSON : .httpProtobuf
        // Spans reach the collector within 2 s (swift-otel's default: 5 s).
        otel.traces.batchSpanProcessor.scheduleDelay = .seconds(2)
        return otel
    }
}
