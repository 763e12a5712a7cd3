#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Small OS look-ups and signals the supervisor needs: is a pid alive, what is it, stop it.
enum ProcessInspection {
    /// Whether a process with this pid exists.
    static func isAlive(_ pid: pid_t) -> Bool {
        do throws(SystemCallError) {
            try syscall("kill") { kill(pid, 0) }
            return true
        } catch {
            return error.code == EPERM
        }
    }

    /// Sends `signal` to `pid`; false when it could not be sent (the process is gone).
    @discardableResult
    static func send(_ signal: Int32, to pid: pid_t) -> Bool {
        (try? syscall("kill") { kill(pid, signal) }) != nil
    }

    /// The command line of a process (Linux `/proc`), nil when unknown.
    static func commandLine(of pid: pid_t) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }
}
