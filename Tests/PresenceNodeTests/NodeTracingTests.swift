import Logging
import Testing

@testable import PresenceNode

/// Tracing is off unless `tracing.otlp_endpoint` is set (issue 27).
struct NodeTracingTests {
    @Test func withoutAnEndpointThereIsNoTracerAndNoExporter() throws {
        let configuration = NodeConfiguration()
        #expect(configuration.tracingEndpoint == nil)
        #expect(NodeTracing.otelConfiguration(configuration, logger: Logger(label: "test")) == nil)
        #expect(try NodeTracing.make(configuration, logger: Logger(label: "test")) == nil)
    }

    @Test func anEndpointIsTheBaseOfTheTracesURL() throws {
        var configuration = NodeConfiguration()
        configuration.tracingEndpoint = "http://127.0.0.1:4318/"
        configuration.tracingSampleRatio = 0.01
        let otel = try #require(NodeTracing.otelConfiguration(configuration, logger: Logger(label: "test")))
        #expect(otel.traces.otlpExporter.endpoint == "http://127.0.0.1:4318/v1/traces")
        #expect(otel.traces.enabled && !otel.logs.enabled && !otel.metrics.enabled)
        #expect(try NodeTracing.make(configuration, logger: Logger(label: "test")) != nil)
    }
}
