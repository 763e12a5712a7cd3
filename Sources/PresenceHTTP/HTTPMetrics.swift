import Hummingbird
import Prometheus
import NIOConcurrencyHelpers

/// HTTP metrics: requests and latency by route, method and status, and rate-limit rejections.
///
/// Metric handles are created once per (route, method, status) and cached, so recording a
/// request is one dictionary look-up under a lock plus atomic updates.
public final class HTTPMetrics: Sendable {
    private struct Key: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private struct Handles {
        let requests: Counter
        let duration: DurationHistogram
    }

    /// The registry these metrics live in.
    public let registry: PrometheusCollectorRegistry
    private let handles = NIOLockedValueBox([Key: Handles]())
    let writesRateLimited: Counter
    let readsRateLimited: Counter

    private static let buckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
    ]
    private var requestsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "presence", subsystem: "http", metricName: "requests", unitName: "total",
            helpText: "HTTP requests by route, method and status")
    }
    private var durationDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "presence", subsystem: "http", metricName: "request_duration", unitName: "seconds",
            helpText: "HTTP request latency by route, method and status")
    }

    /// Registers the HTTP metrics in `registry`.
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        let rateLimited = MetricNameDescriptor(
            namespace: "presence", metricName: "rate_limited", unitName: "total",
            helpText: "Requests refused with 429, by kind (write per subject, read per client address)")
        writesRateLimited = registry.makeCounter(descriptor: rateLimited, labels: [("kind", "write")])
        readsRateLimited = registry.makeCounter(descriptor: rateLimited, labels: [("kind", "read")])
    }

    /// Records one request.
    func record(route: String, method: String, status: Int, duration: Duration) {
        let key = Key(route: route, method: method, status: status)
        let handles = self.handles.withLockedValue { handles in
            if let existing = handles[key] { return existing }
            let labels = [("route", route), ("method", method), ("status", String(status))]
            let created = Handles(
                requests: registry.makeCounter(descriptor: requestsDescriptor, labels: labels),
                duration: registry.makeDurationHistogram(descriptor: durationDescriptor, labels: labels, buckets: Self.buckets))
            handles[key] = created
            return created
        }
        handles.requests.increment()
        handles.duration.record(duration)
    }
}

/// Records every request in ``HTTPMetrics``; outermost, so it sees the final status.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HTTPMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        metrics.record(
            route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code,
            duration: ContinuousClock.now - started)
        return response
    }
}
