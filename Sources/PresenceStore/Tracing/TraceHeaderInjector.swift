import Instrumentation

/// Writes a span's W3C trace context (`traceparent`, `tracestate`) into the headers of a NATS
/// message, so that the node receiving it continues the same trace.
struct TraceHeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [(name: String, value: String)]) {
        carrier.append((key, value))
    }
}
