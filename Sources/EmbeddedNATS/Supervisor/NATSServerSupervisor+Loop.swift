import NIOConcurrencyHelpers
import Foundation

extension NATSServerSupervisor {
    /// The supervising thread: spawns the child, forwards its output, waits for it to exit
    /// and does what the state machine says next (spawn again, pause, or end). The child's
    /// death signal is tied to this thread.
    func superviseLoop() {
        var next = SupervisorStateMachine.Action.spawn
        while true {
            switch next {
            case .spawn:
                next = superviseChild()
            case .spawnAfter(let pause):
                Thread.sleep(forTimeInterval: pause.timeInterval)
                next = state.withLockedValue { $0.machine.backoffElapsed() }
            case .finish:
                perform(next)
                return
            case .none, .interrupt, .terminate, .kill:
                assertionFailure("the supervising thread got \(next)")
                return
            }
        }
    }

    /// Spawns one child and waits for it to exit.
    /// - Returns: what the state machine says to do next.
    private func superviseChild() -> SupervisorStateMachine.Action {
        let child: ChildProcess
        do {
            let binary = state.withLockedValue { $0.binary } ?? configuration.serverBinary
            child = try ChildProcess.spawn(binary, arguments: ["-c", configuration.configFilePath])
        } catch {
            logger.error("cannot start nats-server", metadata: ["error": "\(error)"])
            let (next, waiter) = state.withLockedValue { state in
                defer { state.spawnWaiter = nil }
                return (state.machine.spawnFailed(), state.spawnWaiter)
            }
            waiter?.resume(throwing: StartError(description: "\(error)"))
            return next
        }
        let (action, waiter) = state.withLockedValue { state in
            defer { state.spawnWaiter = nil }
            return (state.machine.spawned(pid: child.pid), state.spawnWaiter)
        }
        waiter?.resume()
        perform(action)  // a stop that came during the spawn
        let reader = Thread { [self] in forwardOutput(of: child) }
        reader.name = "nats-server-log"
        reader.start()

        let started = ContinuousClock.now
        let exit = child.waitForExit()
        let next = state.withLockedValue { $0.machine.childExited(ranFor: ContinuousClock.now - started) }
        switch next {
        case .finish(.exitedBeforeReady):
            logger.error("nats-server exited before it was ready", metadata: ["exit": "\(exit.description)"])
        case .finish:
            logger.info("nats-server stopped", metadata: ["exit": "\(exit.description)"])
        case .spawn:
            logger.info("nats-server stopped for a restart", metadata: ["exit": "\(exit.description)"])
        case .spawnAfter(let pause):
            logger.error(
                "nats-server exited unexpectedly; restarting",
                metadata: ["exit": "\(exit.description)", "restart_in_seconds": "\(pause.timeInterval)"])
        case .none, .interrupt, .terminate, .kill:
            break
        }
        return next
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
                forward(line, of: child.pid)
            }
        }
    }

    private func forward(_ line: String, of pid: Int32) {
        let parsed = NATSServerLogLine(line)
        let verdict = state.withLockedValue { state in
            state.recentOutput.append(line)
            if state.recentOutput.count > 20 { state.recentOutput.removeFirst() }
            if line.hasSuffix("Server is ready"), state.machine.pid == pid { state.machine.childReady() }
            return state.leafnodeProblems.observe(parsed.message, at: .now)
        }
        let quiet = verdict == .quiet || parsed.isAboutTheGeneratedFile
        serverLogger.log(level: quiet ? .debug : parsed.level, "\(parsed.message)")
    }
}

extension Duration {
    /// The duration in seconds, for logs and `Thread.sleep`.
    var timeInterval: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
