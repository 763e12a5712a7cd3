import Foundation
import Hummingbird
import NIOConcurrencyHelpers

/// An in-process OTLP/HTTP collector for tests: takes `POST /v1/traces` with JSON bodies
/// (`tracing.otlp_protocol: http/json`) on a port the OS assigns and keeps their spans.
final class OTLPReceiver: Sendable {
    /// A received span, ids as lower-case hexadecimal.
    struct ReceivedSpan: Sendable {
        let service: String
        let name: String
        let traceID: String
        let spanID: String
        let parentSpanID: String
        let attributes: [String: String]
    }

    private let spans = NIOLockedValueBox<[ReceivedSpan]>([])
    private let bodies = NIOLockedValueBox<[String]>([])
    private let task: Task<Void, any Error>
    let port: Int

    init() async throws {
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let router = Router()
        let spans = self.spans
        let bodies = self.bodies
        router.post("v1/traces") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 16 << 20)
            let data = Data(buffer: buffer)
            bodies.withLockedValue { $0.append(String(decoding: data, as: UTF8.self)) }
            let received = Self.decode(data)
            spans.withLockedValue { $0 += received }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) })
        task = Task { try await application.runService() }
        var iterator = portStream.makeAsyncIterator()
        port = await iterator.next() ?? 0
    }

    deinit { task.cancel() }

    /// The base URL for `tracing.otlp_endpoint`.
    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Every span received so far.
    var received: [ReceivedSpan] { spans.withLockedValue { $0 } }

    /// Every request body received so far, as text.
    var receivedBodies: [String] { bodies.withLockedValue { $0 } }

    /// Waits until `check` holds on the spans received, for at most `timeout`.
    func wait(within timeout: Duration, until check: ([ReceivedSpan]) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !check(received) {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(100))
        }
        return true
    }

    /// The spans of an OTLP JSON `ExportTraceServiceRequest`.
    static func decode(_ data: Data) -> [ReceivedSpan] {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        var result: [ReceivedSpan] = []
        for resourceSpans in root["resourceSpans"] as? [[String: Any]] ?? [] {
            let resource = attributes((resourceSpans["resource"] as? [String: Any])?["attributes"])
            let service = resource["service.name"] ?? ""
            for scopeSpans in resourceSpans["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scopeSpans["spans"] as? [[String: Any]] ?? [] {
                    result.append(
                        ReceivedSpan(
                            service: service, name: span["name"] as? String ?? "", traceID: hex(span["traceId"]),
                            spanID: hex(span["spanId"]), parentSpanID: hex(span["parentSpanId"]),
                            attributes: attributes(span["attributes"])))
                }
            }
        }
        return result
    }

    /// OTLP JSON ids are hexadecimal; protobuf's JSON mapping (swift-protobuf) writes bytes
    /// as base64: either becomes lower-case hexadecimal.
    private static func hex(_ value: Any?) -> String {
        guard let text = value as? String, !text.isEmpty else { return "" }
        if (text.count == 32 || text.count == 16), text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let bytes = Data(base64Encoded: text) else { return text }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Key-value attributes, every value as text.
    private static func attributes(_ value: Any?) -> [String: String] {
        var result: [String: String] = [:]
        for attribute in value as? [[String: Any]] ?? [] {
            guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any],
                let first = value.values.first
            else { continue }
            result[key] = "\(first)"
        }
        return result
    }
}
