import NIOConcurrencyHelpers
import Prometheus

/// Metrics of connected sockets (`presence_ws_*`): sockets open now, sessions ended by how,
/// commands by type, slow readers cut, upgrades refused.
public final class SocketMetrics: Sendable {
    /// Why a socket's session ended.
    enum EndReason: String, CaseIterable {
        /// A close frame (the client's, or the server's on a protocol error).
        case close
        /// No pong in time.
        case timeout
        /// Dropped without a close frame, or cut, and not taken over within the grace period.
        case grace
        /// The node drained.
        case drain
    }

    let connections: Gauge
    private let ended: [EndReason: Counter]
    private let commands = NIOLockedValueBox([String: Counter]())
    let slowReaders: Counter
    let refused: Counter
    private let registry: PrometheusCollectorRegistry
    private var commandsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "presence", subsystem: "ws", metricName: "commands", unitName: "total",
            helpText: "Commands received on connected sockets, by type (invalid: not a known command)")
    }

    /// Registers the socket metrics in `registry`.
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        connections = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "presence", subsystem: "ws", metricName: "connections", unitName: "",
                helpText: "WebSocket connections open now (authenticated or not)"))
        let endedDescriptor = MetricNameDescriptor(
            namespace: "presence", subsystem: "ws", metricName: "sessions_ended", unitName: "total",
            helpText: "Sessions of connected sockets ended, by reason (close, timeout, grace, drain)")
        var ended = [EndReason: Counter]()
        for reason in EndReason.allCases {
            ended[reason] = registry.makeCounter(descriptor: endedDescriptor, labels: [("reason", reason.rawValue)])
        }
        self.ended = ended
        slowReaders = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "presence", subsystem: "ws", metricName: "slow_readers", unitName: "total",
                helpText: "Sockets closed (1013) because they did not read what they were sent"))
        refused = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "presence", subsystem: "ws", metricName: "upgrades_refused", unitName: "total",
                helpText: "WebSocket upgrades refused (origin not allowed, too many sockets, draining)"))
    }

    func sessionEnded(_ reason: EndReason) { ended[reason]?.increment() }

    func command(_ type: String) {
        let counter = commands.withLockedValue { commands in
            if let existing = commands[type] { return existing }
            let created = registry.makeCounter(descriptor: commandsDescriptor, labels: [("type", type)])
            commands[type] = created
            return created
        }
        counter.increment()
    }
}
