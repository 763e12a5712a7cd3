#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files and folders only the node's own user may read (SPEC §5): a file that holds a
/// credential is 0600, a data directory 0700.
///
/// A file is created with its mode (no moment where it is 0644 and readable) under a
/// temporary name beside it, then renamed over the old one. A directory is created 0700, and
/// one that an earlier version left looser is tightened.
public enum PrivateFiles {
    /// Why a private file or folder could not be made.
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes `contents` to `path`, replacing the file atomically; the new file is 0600 from
    /// its creation, whatever the umask. Not fsynced: these files are rewritten at every start,
    /// and one lost to a power failure is made again (a new client credential). Blocking.
    public static func write(_ contents: String, to path: String) throws(Error) {
        let temporary = path + ".tmp-\(getpid())"
        let bytes = Array(contents.utf8)
        do throws(SystemCallError) {
            let descriptor = try syscall("open") { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600) }
            defer { close(descriptor) }
            // A file left by a crashed earlier write may have another mode: make it ours.
            try syscall("fchmod") { fchmod(descriptor, 0o600) }
            var written = 0
            while written < bytes.count {
                written += try syscall("write") {
                    bytes[written...].withUnsafeBytes { posixWrite(descriptor, $0.baseAddress, $0.count) }
                }
            }
            try syscall("rename") { rename(temporary, path) }
        } catch {
            unlink(temporary)
            throw Error(description: "cannot write \(path): \(error)")
        }
    }

    /// What ``makeDirectory(_:)`` did to a directory that existed with a looser mode.
    public enum Tightening: Sendable, Equatable {
        /// It was made 0700; it had mode `from`.
        case tightened(from: mode_t)
        /// It stays as it was (mode `mode`): the node's user may not change it, as on a volume
        /// another user owns (a Kubernetes volume with `fsGroup`). The data is still the node's.
        case refused(mode: mode_t, reason: String)
    }

    /// Creates `path` (and its parents) with mode 0700, or tightens it to 0700 when it exists
    /// with any group or other bits. Blocking.
    /// - Returns: what was done to an existing looser directory; nil when it was created or
    ///   already private.
    /// - Throws: ``Error`` when it cannot be created, or is not a directory.
    @discardableResult
    public static func makeDirectory(_ path: String) throws(Error) -> Tightening? {
        var status = stat()
        if stat(path, &status) != 0 {
            if let parent = parentDirectory(path), stat(parent, &status) != 0 {
                // Parents keep the usual mode: only the data directory itself is private.
                try makeParents(parent)
            }
            do throws(SystemCallError) {
                try syscall("mkdir") { mkdir(path, 0o700) }
            } catch where error.code == EEXIST {
                // Created meanwhile by someone else: checked below like any existing one.
            } catch {
                throw Error(description: "cannot create the directory \(path): \(error)")
            }
            guard stat(path, &status) == 0 else { throw Error(description: "cannot create the directory \(path)") }
        }
        guard status.st_mode & S_IFMT == S_IFDIR else { throw Error(description: "\(path) is not a directory") }
        let mode = status.st_mode & 0o777
        guard mode != 0o700 else { return nil }
        do throws(SystemCallError) {
            try syscall("chmod") { chmod(path, 0o700) }
        } catch {
            return .refused(mode: mode, reason: error.description)
        }
        return .tightened(from: mode)
    }

    /// Creates `path` and its missing parents with the default mode (the umask decides).
    private static func makeParents(_ path: String) throws(Error) {
        var status = stat()
        guard stat(path, &status) != 0 else { return }
        if let parent = parentDirectory(path) { try makeParents(parent) }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw Error(description: "cannot create the directory \(path): \(String(cString: strerror(errno)))")
        }
    }

    private static func posixWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(descriptor, buffer, count)
        #else
        Darwin.write(descriptor, buffer, count)
        #endif
    }

    private static func parentDirectory(_ path: String) -> String? {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return nil }
        let parent = trimmed[..<slash]
        return parent.isEmpty ? nil : String(parent)
    }
}
