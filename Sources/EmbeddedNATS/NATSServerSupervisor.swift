#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs the embedded nats-server: writes its config, starts it, waits until it accepts
/// connections, forwards its log, restarts it when it dies unexpectedly and stops it on
/// shutdown. Never leaves an orphan: the child dies with the service (`PR_SET_PDEATHSIG`
/// through `setpriv`), and a server left by an earlier run of the same data dir (found by
/// its pid file) is stopped before a new one starts.
///
/// Use: `try await supervisor.start()` before anything connects, then run it as the first
/// service of the `ServiceGroup`, so it is stopped last.
public final class NATSServerSupervisor: Service, Sendable {
    /// Why the server could not be started.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    private struct State {
        var child: ChildProcess?
        var monitorPort = 0
        /// The ports the server reported at start (OS-assigned ones resolved).
        var ports: NATSServerPorts?
        var startCalled = false
        var loopRunning = false
        var stopping = false
        /// The current child logged "Server is ready".
        var childReady = false
        /// The child that `start()` waits for exited before it was ready.
        var exitedBeforeReady = false
        var restarts = 0
        /// The running child is being restarted on purpose (``restartServer(reason:)``).
        var restartRequested = false
        var recentOutput: [String] = []
        var leafnodeProblems = LeafnodeProblems()
        var started: CheckedContinuation<Void, any Error>?
        var finished: [CheckedContinuation<Void, Never>] = []
        var isFinished = false
    }

    /// The configuration it runs with.
    public let configuration: EmbeddedNATSConfiguration
    private let logger: Logger
    private let serverLogger: Logger
    private let state = Mutex(State())

    /// Creates a supervisor; nothing starts before ``start()``.
    public init(configuration: EmbeddedNATSConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var serverLogger = logger
        serverLogger[metadataKey: "component"] = "nats-server"
        self.serverLogger = serverLogger
    }

    /// The URL clients of this node connect to.
    public var clientURL: String { "nats://127.0.0.1:\(clientPort)" }

    /// The client port: the configured one, or once started the one the OS assigned.
    public var clientPort: Int { state.withLock { $0.ports?.client } ?? configuration.clientPort }

    /// The port leaves connect to (center), once started.
    public var leafnodePort: Int? { state.withLock { $0.ports?.leafnode } }

    /// The monitoring endpoint, once started.
    public var monitorURL: String { "http://127.0.0.1:\(state.withLock { $0.monitorPort })" }

    /// The leaf nodes connected to this (center) server; nil when monitoring does not answer.
    public func connectedLeafnodes() async -> [MonitorClient.Leafnode]? {
        await MonitorClient.leafnodes(monitorPort: state.withLock { $0.monitorPort })
    }

    /// How many times the server was restarted after dying unexpectedly.
    public var restarts: Int { state.withLock { $0.restarts } }

    /// The pid of the running nats-server, if any.
    public var serverPID: Int32? { state.withLock { $0.child?.pid } }

    /// Writes the config, stops a stale server of the same data dir, starts nats-server and
    /// returns once it accepts client connections.
    public func start() async throws {
        let first = state.withLock { state in
            defer { state.startCalled = true }
            return !state.startCalled
        }
        guard first else { throw StartError(description: "the supervisor was already started") }
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        stopStaleServer()
        if case .center = configuration.mode,
            try JetStreamStoreMigration.moveGlobalAccount(
                storeDirectory: configuration.storeDirectory, to: EmbeddedNATSConfiguration.presenceAccount)
        {
            logger.notice("moved the JetStream data of an earlier version into the presence account")
        }
        NATSServerPorts.removeStale(directory: configuration.dataDirectory)
        let monitorPort = configuration.monitorPort  // 0: the OS assigns one (read back once ready)
        let syncAlways = Self.supportsSyncAlways(binary: configuration.serverBinary, directory: configuration.dataDirectory)
        warnIfLeafPermissionsAreOnlyEnforcedByLeaves()
        if case .center = configuration.mode, !syncAlways {
            logger.warning(
                "nats-server does not support jetstream.sync_interval: always; acknowledged writes are fsynced only every 2 minutes and can be lost on power failure (not on a process crash). Use nats-server 2.10 or newer to close that gap."
            )
        }
        let text = NATSServerConfigFile.render(configuration, monitorPort: monitorPort, syncAlways: syncAlways)
        try text.write(toFile: configuration.configFilePath, atomically: true, encoding: .utf8)
        state.withLock { $0.monitorPort = monitorPort }

        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            state.withLock {
                $0.started = continuation
                $0.loopRunning = true
            }
            let thread = Thread { [self] in superviseLoop() }
            thread.name = "nats-server-supervisor"
            thread.start()
        }
        do {
            let ports = try await waitUntilReady()
            // A restart takes the ports this server was given, so clients and leaves find it again.
            try NATSServerConfigFile.render(configuration.pinned(to: ports), monitorPort: ports.monitor, syncAlways: syncAlways)
                .write(toFile: configuration.configFilePath, atomically: true, encoding: .utf8)
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
        let child: ChildProcess? = state.withLock { state in
            guard !state.stopping, let child = state.child else { return nil }
            state.restartRequested = true
            return child
        }
        guard let child else { return }
        logger.warning("restarting nats-server", metadata: ["reason": "\(reason)"])
        child.send(SIGTERM)
        let pid = child.pid
        DispatchQueue.global().asyncAfter(deadline: .now() + 5) { [self] in
            if state.withLock({ $0.child?.pid == pid }) { child.send(SIGKILL) }
        }
    }

    private func requestStop() {
        let child: ChildProcess? = state.withLock { state in
            state.stopping = true
            return state.child
        }
        guard let child else {
            finishIfIdle()
            return
        }
        child.send(SIGINT)
        let pid = child.pid
        DispatchQueue.global().asyncAfter(deadline: .now() + 5) { [self] in
            if state.withLock({ $0.child?.pid == pid }) { child.send(SIGKILL) }
        }
    }

    /// Releases the waiters of ``stop()`` once a stop was requested and the supervising
    /// loop (and so its child) has ended.
    private func finishIfIdle() {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard state.child == nil, state.stopping, !state.loopRunning else { return [] }
            state.isFinished = true
            defer { state.finished = [] }
            return state.finished
        }
        waiters.forEach { $0.resume() }
    }

    private func waitUntilFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.isFinished { return true }
                state.finished.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Waits until our own child logged "Server is ready", reported its ports and its client
    /// port accepts connections; returns the ports; fails at once with the child's last lines when it exits before that (a
    /// port in use, a bad config, a missing binary).
    private func waitUntilReady() async throws -> NATSServerPorts {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            let (ready, failed, output) = state.withLock { ($0.childReady, $0.exitedBeforeReady, $0.recentOutput) }
            if failed {
                let detail = output.suffix(5).joined(separator: " | ")
                throw StartError(description: "nats-server exited at start" + (detail.isEmpty ? "" : ": \(detail)"))
            }
            if ready, let ports = await reportedPorts(), Loopback.acceptsConnections(port: ports.client) {
                state.withLock {
                    $0.ports = ports
                    $0.monitorPort = ports.monitor
                }
                return ports
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw StartError(description: "nats-server did not become ready on port \(configuration.clientPort) within 15 s")
    }

    /// The ports our current child reports listening on, nil until it has written them.
    private func reportedPorts() async -> NATSServerPorts? {
        guard let pid = state.withLock({ $0.child?.pid }) else { return nil }
        let expectsLeafnodes = if case .center = configuration.mode { true } else { false }
        return await NATSServerPorts.resolve(
            directory: configuration.dataDirectory, pid: pid, expectsLeafnodes: expectsLeafnodes)
    }

    /// The monitor thread: spawns the child, forwards its output, waits for it to exit and
    /// restarts it unless a stop was requested. The child's death signal is tied to this thread.
    private func superviseLoop() {
        defer {
            state.withLock { $0.loopRunning = false }
            finishIfIdle()
        }
        var backoff = 0.25
        var firstChild = true
        while true {
            let child: ChildProcess
            do {
                child = try ChildProcess.spawn(
                    configuration.serverBinary, arguments: ["-c", configuration.configFilePath])
            } catch {
                let continuation = state.withLock { state in
                    state.stopping = true
                    defer { state.started = nil }
                    return state.started
                }
                logger.error("cannot start nats-server", metadata: ["error": "\(error)"])
                continuation?.resume(throwing: StartError(description: "\(error)"))
                return
            }
            let (continuation, stopping) = state.withLock { state in
                state.child = child
                state.childReady = false
                defer { state.started = nil }
                return (state.started, state.stopping)
            }
            continuation?.resume()
            if stopping { child.send(SIGINT) }
            let reader = Thread { [self] in forwardOutput(of: child) }
            reader.name = "nats-server-log"
            reader.start()

            let started = ContinuousClock.now
            let exit = child.waitForExit()
            let (stopRequested, failedAtStart) = state.withLock { state in
                state.child = nil
                let failedAtStart = !state.childReady && firstChild
                if failedAtStart {
                    state.exitedBeforeReady = true
                    state.stopping = true
                }
                return (state.stopping, failedAtStart)
            }
            firstChild = false
            if failedAtStart {
                logger.error("nats-server exited before it was ready", metadata: ["exit": "\(exit.description)"])
                return
            }
            if stopRequested {
                logger.info("nats-server stopped", metadata: ["exit": "\(exit.description)"])
                return
            }
            if state.withLock({ state in defer { state.restartRequested = false }; return state.restartRequested }) {
                logger.info("nats-server stopped for a restart", metadata: ["exit": "\(exit.description)"])
                if state.withLock({ $0.stopping }) { return }
                continue
            }
            if ContinuousClock.now - started > .seconds(30) { backoff = 0.25 }
            logger.error(
                "nats-server exited unexpectedly; restarting",
                metadata: ["exit": "\(exit.description)", "restart_in_seconds": "\(backoff)"])
            state.withLock { $0.restarts += 1 }
            Thread.sleep(forTimeInterval: backoff)
            backoff = min(backoff * 2, 5)
            if state.withLock({ $0.stopping }) { return }
        }
    }

    private func forwardOutput(of child: ChildProcess) {
        let handle = FileHandle(fileDescriptor: child.outputDescriptor, closeOnDealloc: true)
        var pending = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                forward(line)
            }
        }
    }

    private func forward(_ line: String) {
        let parsed = NATSServerLogLine(line)
        let verdict = state.withLock { state in
            state.recentOutput.append(line)
            if state.recentOutput.count > 20 { state.recentOutput.removeFirst() }
            if line.hasSuffix("Server is ready") { state.childReady = true }
            return state.leafnodeProblems.observe(parsed.message, at: .now)
        }
        serverLogger.log(level: verdict == .quiet ? .debug : parsed.level, "\(parsed.message)")
    }

    /// On a leaf, why its connection to the hub fails right now (connection refused, the
    /// credential refused, a TLS failure), as nats-server reported it; nil when it reports nothing.
    public var leafnodeProblem: String? {
        state.withLock { $0.leafnodeProblems.problem(at: .now) }
    }

    private func stopStaleServer() {
        guard let text = try? String(contentsOfFile: configuration.pidFilePath, encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
            ProcessInspection.isAlive(pid),
            let commandLine = ProcessInspection.commandLine(of: pid),
            commandLine.contains("nats-server"), commandLine.contains(configuration.configFilePath)
        else { return }
        logger.warning("stopping a nats-server left by an earlier run", metadata: ["pid": "\(pid)"])
        ProcessInspection.send(SIGTERM, to: pid)
        for _ in 0..<50 where ProcessInspection.isAlive(pid) { usleep(100_000) }
        if ProcessInspection.isAlive(pid) {
            ProcessInspection.send(SIGKILL, to: pid)
            for _ in 0..<50 where ProcessInspection.isAlive(pid) { usleep(20_000) }
        }
    }

    /// An exposed center whose nats-server predates hub-side checks of leaf permissions: a
    /// holder of the leaf credential speaking the leafnode protocol itself could bypass them.
    private func warnIfLeafPermissionsAreOnlyEnforcedByLeaves() {
        guard case .center = configuration.mode, configuration.leafUser != nil,
            !configuration.leafnodeHost.hasPrefix("127."), configuration.leafnodeHost != "localhost",
            let version = Self.version(binary: configuration.serverBinary), !version.enforcesLeafPermissionsAtTheHub
        else { return }
        logger.warning(
            "nats-server \(version) does not itself check the leaf user's permissions (2.11.16, 2.12.7 and 2.14 do): genuine leaves are held to them, but a client holding the leaf credential could bypass them. Keep nats.leaf_password secret and prefer a current nats-server on an exposed center."
        )
    }

    /// The release of a nats-server binary, nil when it cannot be told.
    static func version(binary: String) -> NATSServerVersion? {
        guard let child = try? ChildProcess.spawn(binary, arguments: ["--version"]) else { return nil }
        let handle = FileHandle(fileDescriptor: child.outputDescriptor, closeOnDealloc: true)
        let output = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        _ = child.waitForExit()
        return NATSServerVersion(parsing: output)
    }

    /// Whether this nats-server accepts `jetstream { sync_interval: always }` (2.10+), checked
    /// with `nats-server -t` on a scratch config.
    static func supportsSyncAlways(binary: String, directory: String) -> Bool {
        let path = directory + "/.sync-check.conf"
        let text = "jetstream { store_dir: \"\(directory)/.sync-check\", sync_interval: always }\n"
        guard (try? text.write(toFile: path, atomically: true, encoding: .utf8)) != nil else { return false }
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let child = try? ChildProcess.spawn(binary, arguments: ["-t", "-c", path]) else { return false }
        let handle = FileHandle(fileDescriptor: child.outputDescriptor, closeOnDealloc: true)
        _ = handle.readDataToEndOfFile()
        return child.waitForExit().code == 0
    }
}
