#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A child process started with `posix_spawnp`, its stdout and stderr on one pipe.
///
/// Spawned on Linux through `setpriv --pdeathsig KILL` when that tool exists, so the child
/// is killed by the kernel if the thread that spawned it dies: even a SIGKILL of the whole
/// service leaves no orphan. The spawning thread must therefore live as long as the child
/// (``NATSServerSupervisor`` spawns from its own monitor thread).
struct ChildProcess: Sendable {
    let pid: pid_t
    /// Read end of the child's combined stdout/stderr.
    let outputDescriptor: Int32

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    private static let spawnLock = NSLock()

    static let deathSignalWrapper: String? = {
        #if os(Linux)
        for path in ["/usr/bin/setpriv", "/bin/setpriv"] where access(path, X_OK) == 0 {
            return path
        }
        #endif
        return nil
    }()

    /// Spawns `executable` (a path or a name on PATH) with `arguments`.
    static func spawn(_ executable: String, arguments: [String]) throws -> ChildProcess {
        var argv = [executable] + arguments
        if let wrapper = deathSignalWrapper {
            argv = [wrapper, "--pdeathsig", "KILL", "--"] + argv
        }
        var fds: [Int32] = [0, 0]
        // Close-on-exec, so no other child ever inherits this pipe and keeps its write end open
        // (the dup2 onto stdout/stderr gives our child its own copies without the flag). Spawns
        // are serialised so no spawn happens between pipe() and fcntl().
        spawnLock.lock()
        defer { spawnLock.unlock() }
        do {
            try syscall("pipe") { pipe(&fds) }
        } catch {
            throw SpawnError(description: "\(error)")
        }
        _ = try? syscall("fcntl") { fcntl(fds[0], F_SETFD, FD_CLOEXEC) }
        _ = try? syscall("fcntl") { fcntl(fds[1], F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Reset signal masks and dispositions the service changed (ServiceLifecycle ignores SIGTERM/SIGINT).
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGHUP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        // Its own process group: a Ctrl-C in the terminal reaches the service, which then stops
        // nats-server last, instead of nats-server at the same moment (which would look like a
        // crash and be restarted). The death signal still ties it to the service.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        defer { close(fds[1]) }  // the child has its own copies
        do throws(SystemCallError) {
            try syscall(returningErrorCode: "posix_spawnp") {
                posix_spawnp(&pid, argv[0], &actions, &attributes, &cArguments, environ)
            }
        } catch {
            close(fds[0])
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(error.code)))")
        }
        return ChildProcess(pid: pid, outputDescriptor: fds[0])
    }

    /// Blocks until the child exits; returns a description of how it ended.
    func waitForExit() -> (code: Int32, description: String) {
        var status: Int32 = 0
        // Fails only for a pid that is not our child (ECHILD): then there is nothing to wait for.
        _ = try? syscall("waitpid") { waitpid(pid, &status, 0) }
        let signal = status & 0x7F
        if signal == 0 {
            let code = (status >> 8) & 0xFF
            return (code, "exit status \(code)")
        }
        return (128 + signal, "signal \(signal)")
    }

    /// Sends a signal to the child.
    func send(_ signal: Int32) {
        ProcessInspection.send(signal, to: pid)
    }
}
