#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An exclusive lock on a node's data directory, held for as long as the value lives (the
/// kernel releases it when the process ends, however it ends).
///
/// A second node started on a directory in use must not touch it: starting a second
/// nats-server there would stop the first node's server (it looks like a stale one) and
/// overwrite its config. The lock is an `flock` on `<dir>/presence.lock`, which holds the
/// owner's pid for the message the second node prints.
public final class DataDirectoryLock: Sendable {
    /// Why the lock could not be taken.
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    /// The locked directory.
    public let directory: String
    private let descriptor: Int32

    /// Creates the directory if needed (mode 0700, or tightened to it: SPEC §5) and takes the
    /// lock without waiting.
    /// - Throws: ``Error`` naming the directory (and the pid holding it) when it is in use.
    public init(directory: String) throws {
        do {
            try PrivateFiles.makeDirectory(directory)
        } catch {
            throw Error(description: "cannot create the data directory \(directory) (nats.data_dir): \(error.description)")
        }
        let path = directory + "/presence.lock"
        let descriptor: Int32
        do throws(SystemCallError) {
            descriptor = try syscall("open") { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        } catch {
            throw Error(description: "cannot open \(path) (nats.data_dir): \(String(cString: strerror(error.code)))")
        }
        do throws(SystemCallError) {
            try syscall("flock") { flock(descriptor, LOCK_EX | LOCK_NB) }
        } catch {
            let owner = Self.readOwner(descriptor)
            close(descriptor)
            guard error.code == EWOULDBLOCK else {
                throw Error(description: "cannot lock \(path) (nats.data_dir): \(String(cString: strerror(error.code)))")
            }
            throw Error(
                description:
                    "the data directory \(directory) is in use by another presence node\(owner.map { " (pid \($0))" } ?? ""); every node needs its own nats.data_dir (--data-dir)"
            )
        }
        // The owner's pid is only a hint for that message: a failure to write it is not fatal.
        let pid = Array("\(getpid())\n".utf8)
        if (try? syscall("ftruncate") { ftruncate(descriptor, 0) }) != nil {
            _ = try? syscall("pwrite") { pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) } }
        }
        self.directory = directory
        self.descriptor = descriptor
    }

    private static func readOwner(_ descriptor: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 32)
        guard let count = try? syscall("pread", { buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) } }),
            count > 0
        else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    deinit {
        close(descriptor)  // releases the lock
    }
}
