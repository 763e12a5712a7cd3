/// How spans are sent to the collector (`tracing.otlp_protocol`).
public enum TracingProtocol: Sendable, Equatable {
    /// OTLP/HTTP with protobuf bodies (the collectors' default).
    case httpProtobuf
    /// OTLP/HTTP with JSON bodies.
    case httpJSON
}
