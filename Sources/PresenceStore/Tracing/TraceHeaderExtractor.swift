import Instrumentation

/// Reads the W3C trace context from the headers of a received NATS message.
struct TraceHeaderExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key]
    }
}
