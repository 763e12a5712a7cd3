import Foundation

/// Which nats-server a node runs. `nats.server_binary` is `auto` by default: the one beside
/// the `presence` executable (a release archive's `bin/nats-server`), then the project's
/// installed one (`.tools/nats-server/bin/nats-server` in a directory above the executable,
/// where `scripts/install-nats-server.sh` and `make run` put the pinned release), then
/// `nats-server` on `PATH`. Any other value names the binary (a path, or a name on `PATH`),
/// and the operator who names one may run a release older than 2.10, which an automatic
/// choice refuses (see ``NATSServerSupervisor``).
public enum NATSServerLocator {
    /// The value of `nats.server_binary` that asks for the automatic choice.
    public static let automatic = "auto"

    /// The chosen binary.
    public struct Choice: Sendable, Equatable {
        /// The path (or, when named, the name on `PATH`) to run.
        public var path: String
        /// Whether the operator named it (`nats.server_binary` other than `auto`).
        public var named: Bool
    }

    /// A binary asked for automatically and found nowhere, or a named one that is not there.
    public struct NotFound: Error, CustomStringConvertible {
        /// The places looked at, in order.
        public var searched: [String]
        /// The `nats.server_binary` that named it; nil for the automatic choice.
        public var named: String? = nil

        public var description: String {
            let install = "install the pinned one with scripts/install-nats-server.sh (make run does)"
            guard let named else {
                return "no nats-server found (looked beside the presence binary, in the project's .tools and on PATH); "
                    + install + ", or set nats.server_binary"
            }
            let what = named.contains("/") ? "'\(named)' is not an executable file" : "no executable '\(named)' is on PATH"
            return "invalid value for 'nats.server_binary': \(what); name an installed nats-server, "
                + "or leave it 'auto' and " + install
        }
    }

    /// How many directories above the executable's may hold the project's `.tools`
    /// (`.build/<triple>/release/presence` is three below the project).
    static let projectDepth = 4

    /// The places an automatic choice looks at, in order.
    /// - Parameters:
    ///   - executable: the real path of the running `presence` binary.
    ///   - pathVariable: the `PATH` environment variable.
    public static func candidates(executable: String?, pathVariable: String?) -> [String] {
        var candidates: [String] = []
        if let executable {
            var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent("nats-server").path)
            for _ in 0..<projectDepth {
                candidates.append(directory.appendingPathComponent(".tools/nats-server/bin/nats-server").path)
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        candidates += onPath("nats-server", pathVariable: pathVariable)
        var seen = Set<String>()
        return candidates.filter { seen.insert($0).inserted }
    }

    /// The binary for `configured` (`nats.server_binary`). Blocking when automatic (file checks).
    /// - Throws: ``NotFound`` when automatic and no candidate is an executable file, or when
    ///   the named binary is not one (a path) or not on `PATH` (a name).
    public static func choose(
        configured: String, executable: String? = runningExecutable(),
        pathVariable: String? = ProcessInfo.processInfo.environment["PATH"],
        isExecutable: (String) -> Bool = { FileManager.default.isExecutableFile(atPath: $0) }
    ) throws(NotFound) -> Choice {
        guard configured == automatic || configured.isEmpty else {
            let places = configured.contains("/") ? [configured] : onPath(configured, pathVariable: pathVariable)
            guard places.contains(where: isExecutable) else { throw NotFound(searched: places, named: configured) }
            return Choice(path: configured, named: true)
        }
        let candidates = candidates(executable: executable, pathVariable: pathVariable)
        guard let found = candidates.first(where: isExecutable) else { throw NotFound(searched: candidates) }
        return Choice(path: found, named: false)
    }

    /// Where `name` would be on `PATH`, in order (absolute entries only).
    static func onPath(_ name: String, pathVariable: String?) -> [String] {
        (pathVariable ?? "").split(separator: ":").filter { $0.hasPrefix("/") }.map { $0 + "/" + name }
    }

    /// The real path of the running executable (symbolic links resolved), nil when unknown.
    public static func runningExecutable() -> String? {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return Bundle.main.executableURL?.resolvingSymlinksInPath().path
    }
}
