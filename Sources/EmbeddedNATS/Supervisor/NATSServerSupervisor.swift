#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import NIOConcurrencyHelpers

/// Runs the embedded nats-server: writes its config, starts it, waits until it accepts
/// connections, forwards its log, restarts it when it dies unexpectedly and stops it on
/// shutdown. Never leaves an orphan: the child dies with the service (`PR_SET_PDEATHSIG`
/// through `setpriv`), and a server left by an earlier run of the same data dir (found by
/// its pid file) is stopped before a new one starts.
///
/// The rules live in ``SupervisorStateMachine``; this class executes its actions. The child
/// is spawned and awaited on a thread of its own, the start-up's file and process work runs
/// on NIO's thread pool: no call blocks Swift's cooperative pool.
///
/// Use: `try await supervisor.start()` before anything connects, then run it as the first
/// service of the `ServiceGroup`, so it is stopped last.
public final class NATSServerSupervisor: Service, Sendable {
    /// Why the server could not be started.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The binary chosen automatically is older than 2.10, whose JetStream acknowledges a write
    /// before it is on disk: refused, unless the operator names it in `nats.server_binary`.
    public struct OldServerRefused: Error, CustomStringConvertible {
        public let version: String
        public let path: String
        public var description: String {
            "nats-server \(version) at \(path) is older than 2.10 and acknowledges writes before they are on disk; "
                + "install the pinned release (scripts/install-nats-server.sh, which make run uses), put a newer nats-server "
                + "beside the presence binary, or set nats.server_binary to \(path) to run this one anyway"
        }
    }

    struct State {
        var machine = SupervisorStateMachine()
        var monitorPort = 0
        /// The credential of the client port, once ``start()`` has read or made it.
        var client: NATSClientCredential?
        /// The ports the server reported at start (OS-assigned ones resolved).
        var ports: NATSServerPorts?
        var recentOutput: [String] = []
        /// The nats-server binary ``start()`` chose (``NATSServerLocator``).
        var binary: String?
        var leafnodeProblems = LeafnodeProblems()
        /// ``start()``, waiting for the first child to be spawned.
        var spawnWaiter: CheckedContinuation<Void, any Error>?
        /// ``stop()`` and ``run()``, waiting for supervision to end.
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// How long a child asked to exit may take before it is killed.
    static let gracePeriod = Duration.seconds(5)

    /// The configuration it runs with.
    public let configuration: EmbeddedNATSConfiguration
    let logger: Logger
    let serverLogger: Logger
    let state = NIOLockedValueBox(State())

    /// Creates a supervisor; nothing starts before ``start()``.
    public init(configuration: EmbeddedNATSConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var serverLogger = logger
        serverLogger[metadataKey: "component"] = "nats-server"
        self.serverLogger = serverLogger
    }

    /// The URL clients of this node connect to, without the credential (for logs and
    /// `/health/info`); connections also need ``clientCredential``.
    public var clientURL: String { "nats://127.0.0.1:\(clientPort)" }

    /// The user and password the client port requires, once started (SPEC §5).
    public var clientCredential: NATSClientCredential? { state.withLockedValue { $0.client } }

    /// The client URL with the credential in it, as `<data_dir>/nats-client.url` holds it
    /// (``clientURL`` before the server was started).
    public var authenticatedClientURL: String { clientCredential?.url(port: clientPort) ?? clientURL }

    /// The client port: the configured one, or once started the one the OS assigned.
    public var clientPort: Int { state.withLockedValue { $0.ports?.client } ?? configuration.clientPort }

    /// The port leaves connect to (center), once started.
    public var leafnodePort: Int? { state.withLockedValue { $0.ports?.leafnode } }

    /// The monitoring endpoint, once started.
    public var monitorURL: String { "http://127.0.0.1:\(state.withLockedValue { $0.monitorPort })" }

    /// The leaf nodes connected to this (center) server; nil when monitoring does not answer.
    public func connectedLeafnodes() async -> [MonitorClient.Leafnode]? {
        await MonitorClient.leafnodes(monitorPort: state.withLockedValue { $0.monitorPort })
    }

    /// The servers the embedded one has a route to (a clustered center); nil when its
    /// monitoring endpoint does not answer.
    public func routedServers() async -> [String]? {
        await MonitorClient.routedServers(monitorPort: state.withLockedValue { $0.monitorPort })
    }

    /// How many times the server was restarted after dying unexpectedly.
    public var restarts: Int { state.withLockedValue { $0.machine.restarts } }

    /// On a leaf, why its connection to the hub fails right now (connection refused, the
    /// credential refused, a TLS failure), as nats-server reported it; nil when it reports nothing.
    public var leafnodeProblem: String? {
        state.withLockedValue { $0.leafnodeProblems.problem(at: .now) }
    }

    /// Writes the config, stops a stale server of the same data dir, starts nats-server and
    /// returns once it accepts client connections.
    public func start() async throws {
        guard state.withLockedValue({ $0.machine.startRequested() }) != nil else {
            throw StartError(description: "the supervisor was already started")
        }
        let syncAlways: Bool
        do {
            syncAlways = try await NIOThreadPool.singleton.runIfActive { try self.prepareStart() }
        } catch {
            // No child and no supervising thread: the start ends here, and so does a stop
            // that is waiting for it (or comes later).
            perform(state.withLockedValue { $0.machine.spawnFailed() })
            throw error
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            state.withLockedValue { $0.spawnWaiter = continuation }
            let thread = Thread { [self] in superviseLoop() }
            thread.name = "nats-server-supervisor"
            thread.start()
        }
        do {
            let ports = try await waitUntilReady()
            // A restart takes the ports this server was given, so clients and leaves find it again.
            try await NIOThreadPool.singleton.runIfActive {
                try self.writeConfigFile(self.configuration.pinned(to: ports), monitorPort: ports.monitor, syncAlways: syncAlways)
                try self.clientCredential?.store(port: ports.client, dataDirectory: self.configuration.dataDirectory)
            }
        } catch {
            await stop()
            throw error
        }
        logger.info(
            "nats-server started",
            metadata: [
                "client_url": "\(clientURL)", "monitor_url": "\(monitorURL)", "sync_always": "\(syncAlways)",
                "leafnode_port": "\(leafnodePort.map(String.init) ?? "none")",
            ])
    }

    /// Supervises until graceful shutdown, then stops the server.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await waitUntilFinished()
            } onCancel: {
                self.requestStop()
            }
        } onGracefulShutdown: {
            self.requestStop()
        }
    }

    /// Stops the server (SIGINT, then SIGKILL after 5 s) and waits until it is gone.
    public func stop() async {
        requestStop()
        await waitUntilFinished()
    }

    /// Restarts the running nats-server (SIGTERM, SIGKILL after 5 s; the supervising loop
    /// starts a new one at once), for a server that stopped working without exiting: 2.9
    /// stays wedged after its disk filled up, even once space is freed.
    public func restartServer(reason: String) {
        let action = state.withLockedValue { $0.machine.restartRequested() }
        if case .terminate = action {
            logger.warning("restarting nats-server", metadata: ["reason": "\(reason)"])
        }
        perform(action)
    }

    /// Puts the running nats-server into lame-duck mode (SIGUSR2): it stops accepting new
    /// clients and, in a JetStream cluster, hands the leadership of every stream, consumer and
    /// its meta group to other servers; existing connections stay for its 10 s grace period.
    /// For a graceful stop of a clustered center, before the node's own stop.
    /// - Returns: whether a running server was signalled.
    @discardableResult
    public func enterLameDuckMode() -> Bool {
        guard let pid = state.withLockedValue({ $0.machine.pid }) else { return false }
        logger.info("nats-server enters lame-duck mode: other centers take over its leaderships")
        ProcessInspection.send(SIGUSR2, to: pid)
        return true
    }

    private func requestStop() {
        perform(state.withLockedValue { $0.machine.stopRequested() })
    }

    /// Carries out an action of the state machine that any thread may take: signals and the
    /// end of supervision. Spawning and pauses belong to the supervising thread.
    func perform(_ action: SupervisorStateMachine.Action) {
        switch action {
        case .none, .spawn, .spawnAfter:
            break
        case .interrupt(let pid):
            ProcessInspection.send(SIGINT, to: pid)
            killAfterGracePeriod(pid)
        case .terminate(let pid):
            ProcessInspection.send(SIGTERM, to: pid)
            killAfterGracePeriod(pid)
        case .kill(let pid):
            ProcessInspection.send(SIGKILL, to: pid)
        case .finish:
            let waiters = state.withLockedValue { state in
                defer { state.finishWaiters = [] }
                return state.finishWaiters
            }
            waiters.forEach { $0.resume() }
        }
    }

    private func killAfterGracePeriod(_ pid: Int32) {
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.gracePeriod.timeInterval) { [self] in
            perform(state.withLockedValue { $0.machine.gracePeriodElapsed(pid: pid) })
        }
    }

    private func waitUntilFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { state in
                if state.machine.isFinished { return true }
                state.finishWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Waits until our own child logged "Server is ready", reported its ports and its client
    /// port accepts connections; returns the ports; fails at once with the child's last lines
    /// when it exits before that (a port in use, a bad config, a missing binary).
    private func waitUntilReady() async throws -> NATSServerPorts {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            let (progress, pid, output) = state.withLockedValue { ($0.machine.startProgress, $0.machine.pid, $0.recentOutput) }
            switch progress {
            case .failed:
                let detail = output.suffix(5).joined(separator: " | ")
                throw StartError(description: "nats-server exited at start" + (detail.isEmpty ? "" : ": \(detail)"))
            case .ready:
                if let pid, let ports = await listeningPorts(of: pid) {
                    state.withLockedValue {
                        $0.ports = ports
                        $0.monitorPort = ports.monitor
                    }
                    return ports
                }
            case .waiting:
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw StartError(description: "nats-server did not become ready on port \(configuration.clientPort) within 15 s")
    }

    /// The ports child `pid` reports listening on, once it has written them and its client
    /// port accepts connections; nil before. Runs on NIO's thread pool.
    private func listeningPorts(of pid: Int32) async -> NATSServerPorts? {
        let directory = configuration.dataDirectory
        let expectsLeafnodes = if case .center = configuration.mode { true } else { false }
        return try? await NIOThreadPool.singleton.runIfActive {
            guard let ports = NATSServerPorts.read(directory: directory, pid: pid, expectsLeafnodes: expectsLeafnodes),
                Loopback.acceptsConnections(port: ports.client)
            else { return nil }
            return ports
        }
    }
}
