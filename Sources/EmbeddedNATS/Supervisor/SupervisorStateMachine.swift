/// The rules of the nats-server supervisor, as a value: starting, running, restarting,
/// backing off, stopping. Events go in, actions come out; ``NATSServerSupervisor`` executes
/// them outside its lock (spawning, signalling, sleeping). No I/O and no clock, so every
/// transition is unit-tested.
///
/// - The first child must log "Server is ready": one that exits before that fails the start
///   (a port in use, a bad config), and the supervisor gives up rather than retry.
/// - A child that dies unexpectedly later is spawned again after a back-off that doubles from
///   ``initialBackoff`` to ``maxBackoff`` and starts over once a child ran ``stableRun``.
/// - A restart on purpose (``restartRequested()``) asks the child to exit (SIGTERM) and
///   spawns the next one at once, without back-off.
/// - A stop asks the child to exit (SIGINT); a child still there after the grace period is
///   killed. A spawn that fails ends the supervision.
struct SupervisorStateMachine: Sendable {
    /// What the supervisor does after an event.
    enum Action: Sendable, Equatable {
        case none
        /// Spawn a nats-server child, then report ``spawned(pid:)`` or ``spawnFailed()``.
        case spawn
        /// Wait this long, then report ``backoffElapsed()``.
        case spawnAfter(Duration)
        /// Ask the child to stop (SIGINT); report ``gracePeriodElapsed(pid:)`` after the grace period.
        case interrupt(pid: Int32)
        /// Ask the child to exit for a restart (SIGTERM); report ``gracePeriodElapsed(pid:)``
        /// after the grace period.
        case terminate(pid: Int32)
        /// The child outlived its grace period: SIGKILL.
        case kill(pid: Int32)
        /// Supervision is over: release whoever waits for the stop.
        case finish(Outcome)
    }

    /// How supervision ended.
    enum Outcome: Sendable, Equatable {
        /// Stopped on request.
        case stopped
        /// The first child exited before it was ready.
        case exitedBeforeReady
        /// A child could not be spawned at all (a missing binary).
        case spawnFailed
    }

    /// Where the supervisor stands.
    enum Phase: Sendable, Equatable {
        /// Nothing started yet.
        case idle
        /// The first child is spawned (`pid` nil while being spawned) and not ready yet.
        case starting(pid: Int32?)
        /// A child runs (`pid` nil while a replacement is being spawned).
        case running(pid: Int32?)
        /// The child was asked to exit for a restart.
        case restarting(pid: Int32)
        /// The child died; the next one is spawned after a pause.
        case backingOff(Duration)
        /// A stop was asked; waiting for the child (or the spawn, or the pause) to end.
        /// `wasReady`: whether the first child had become ready.
        case stopping(pid: Int32?, wasReady: Bool)
        /// Supervision is over.
        case finished(Outcome)
    }

    /// Whether ``start()`` found the first child ready, failed, or must wait more.
    enum StartProgress: Sendable, Equatable {
        case waiting
        case ready
        case failed(Outcome)
    }

    /// The first pause after an unexpected exit.
    static let initialBackoff = Duration.milliseconds(250)
    /// The longest pause between restarts.
    static let maxBackoff = Duration.seconds(5)
    /// A child that ran this long resets the back-off to ``initialBackoff``.
    static let stableRun = Duration.seconds(30)

    private(set) var phase = Phase.idle
    /// Children spawned again after an unexpected exit.
    private(set) var restarts = 0
    private var nextBackoff = initialBackoff
    private var wasEverReady = false

    /// The pid of the current child, if one runs.
    var pid: Int32? {
        switch phase {
        case .starting(let pid), .running(let pid), .stopping(let pid, _): pid
        case .restarting(let pid): pid
        case .idle, .backingOff, .finished: nil
        }
    }

    /// Whether supervision is over.
    var isFinished: Bool {
        if case .finished = phase { true } else { false }
    }

    /// How far the start got.
    var startProgress: StartProgress {
        if wasEverReady { return .ready }
        if case .finished(let outcome) = phase { return .failed(outcome) }
        return .waiting
    }

    /// `start()` was called.
    /// - Returns: ``Action/spawn``, or nil when the supervisor was already started.
    mutating func startRequested() -> Action? {
        guard case .idle = phase else { return nil }
        phase = .starting(pid: nil)
        return .spawn
    }

    /// A child was spawned.
    mutating func spawned(pid: Int32) -> Action {
        switch phase {
        case .starting(nil):
            phase = .starting(pid: pid)
            return .none
        case .running(nil):
            phase = .running(pid: pid)
            return .none
        case .stopping(nil, let wasReady):
            // The stop came while it was being spawned.
            phase = .stopping(pid: pid, wasReady: wasReady)
            return .interrupt(pid: pid)
        default:
            assertionFailure("spawned in \(phase)")
            return .none
        }
    }

    /// A child could not be spawned, or the start failed before spawning one (the data
    /// directory or the config file could not be written): supervision ends.
    mutating func spawnFailed() -> Action {
        if case .stopping = phase {
            phase = .finished(.stopped)
            return .finish(.stopped)
        }
        phase = .finished(.spawnFailed)
        return .finish(.spawnFailed)
    }

    /// The current child logged that it is ready.
    mutating func childReady() {
        switch phase {
        case .starting(let pid?):
            wasEverReady = true
            phase = .running(pid: pid)
        default:
            // A restarted child, or one already asked to stop (a start stopped half-way fails).
            break
        }
    }

    /// The current child exited after running for `ranFor`.
    mutating func childExited(ranFor: Duration) -> Action {
        switch phase {
        case .starting, .stopping(_, wasReady: false):
            phase = .finished(.exitedBeforeReady)
            return .finish(.exitedBeforeReady)
        case .stopping:
            phase = .finished(.stopped)
            return .finish(.stopped)
        case .restarting:
            phase = .running(pid: nil)
            return .spawn
        case .running:
            if ranFor > Self.stableRun { nextBackoff = Self.initialBackoff }
            let pause = nextBackoff
            nextBackoff = min(nextBackoff * 2, Self.maxBackoff)
            restarts += 1
            phase = .backingOff(pause)
            return .spawnAfter(pause)
        case .idle, .backingOff, .finished:
            assertionFailure("a child exited in \(phase)")
            return .none
        }
    }

    /// The pause after an unexpected exit is over.
    mutating func backoffElapsed() -> Action {
        switch phase {
        case .backingOff:
            phase = .running(pid: nil)
            return .spawn
        case .stopping:
            phase = .finished(.stopped)
            return .finish(.stopped)
        default:
            return .none
        }
    }

    /// A restart of the running child was asked (it stopped working without exiting).
    mutating func restartRequested() -> Action {
        guard case .running(let pid?) = phase else { return .none }
        phase = .restarting(pid: pid)
        return .terminate(pid: pid)
    }

    /// A stop was asked.
    mutating func stopRequested() -> Action {
        switch phase {
        case .idle:
            phase = .finished(.stopped)
            return .finish(.stopped)
        case .starting(let pid):
            phase = .stopping(pid: pid, wasReady: false)
            return pid.map { .interrupt(pid: $0) } ?? .none
        case .running(let pid):
            phase = .stopping(pid: pid, wasReady: true)
            return pid.map { .interrupt(pid: $0) } ?? .none
        case .restarting(let pid):
            phase = .stopping(pid: pid, wasReady: true)
            return .interrupt(pid: pid)
        case .backingOff:
            // Ends when the pause does: the supervising thread is the one sleeping through it.
            phase = .stopping(pid: nil, wasReady: true)
            return .none
        case .stopping, .finished:
            return .none
        }
    }

    /// The grace period given to child `pid` to exit is over.
    mutating func gracePeriodElapsed(pid: Int32) -> Action {
        self.pid == pid ? .kill(pid: pid) : .none
    }
}
