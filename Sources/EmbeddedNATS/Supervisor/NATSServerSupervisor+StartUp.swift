import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What happens before the first nats-server is spawned: files, a stale server, the binary's
/// abilities. All of it blocks (file I/O, child processes, waiting for a stale server to
/// exit): ``NATSServerSupervisor/start()`` runs it on NIO's thread pool.
extension NATSServerSupervisor {
    /// Creates the data directory (0700), stops a stale server, migrates an old store, reads
    /// or makes the client credential, writes the config file (0600). Blocking.
    /// - Returns: whether the config asks for `sync_interval: always`.
    func prepareStart() throws -> Bool {
        try makePrivateDirectory(configuration.dataDirectory)
        if case .center = configuration.mode { try makePrivateDirectory(configuration.storeDirectory) }
        let client = NATSClientCredential.stored(dataDirectory: configuration.dataDirectory) ?? .generate()
        state.withLockedValue { $0.client = client }
        stopStaleServer()
        if case .center = configuration.mode,
            try JetStreamStoreMigration.moveGlobalAccount(
                storeDirectory: configuration.storeDirectory, to: EmbeddedNATSConfiguration.presenceAccount)
        {
            logger.notice("moved the JetStream data of an earlier version into the presence account")
        }
        NATSServerPorts.removeStale(directory: configuration.dataDirectory)
        let binary = try chooseBinary()
        let monitorPort = configuration.monitorPort  // 0: the OS assigns one (read back once ready)
        let syncAlways = Self.supportsSyncAlways(binary: binary, directory: configuration.dataDirectory)
        if configuration.cluster != nil, !syncAlways {
            // 2.9's JetStream clustering predates years of fixes, and without fsync before the
            // acknowledgement a cluster's promise (most centers have each write) is not kept.
            throw StartError(
                description:
                    "'nats.cluster.port' is set, but \(binary) is older than 2.10: a clustered center needs nats-server 2.10 or newer (scripts/install-nats-server.sh installs one)"
            )
        }
        warnIfLeafPermissionsAreOnlyEnforcedByLeaves(binary: binary)
        if case .center = configuration.mode, !syncAlways {
            logger.warning(
                "nats-server does not support jetstream.sync_interval: always; acknowledged writes are fsynced only every 2 minutes and can be lost on power failure (not on a process crash). Use nats-server 2.10 or newer to close that gap."
            )
        }
        try writeConfigFile(configuration, monitorPort: monitorPort, syncAlways: syncAlways)
        state.withLockedValue { $0.monitorPort = monitorPort }
        return syncAlways
    }

    /// Chooses the nats-server binary (``NATSServerLocator``) and remembers it for every spawn.
    /// Blocking (file checks, `nats-server --version`).
    /// - Throws: ``NATSServerLocator/NotFound``, or ``OldServerRefused`` for an automatic
    ///   choice older than 2.10.
    private func chooseBinary() throws -> String {
        let choice = try NATSServerLocator.choose(configured: configuration.serverBinary)
        let version = Self.version(binary: choice.path)
        if !choice.named, let version, version < NATSServerVersion(2, 10, 0) {
            throw OldServerRefused(version: version.description, path: choice.path)
        }
        logger.info(
            "running nats-server",
            metadata: ["binary": "\(choice.path)", "version": "\(version?.description ?? "unknown")", "chosen": "\(choice.named ? "nats.server_binary" : "automatically")"])
        state.withLockedValue { $0.binary = choice.path }
        return choice.path
    }

    /// Writes the nats-server config file for `configuration`, mode 0600: it holds the client,
    /// leaf and route passwords. Blocking.
    func writeConfigFile(_ configuration: EmbeddedNATSConfiguration, monitorPort: Int, syncAlways: Bool) throws {
        guard let client = clientCredential else { throw StartError(description: "no client credential before the config") }
        try PrivateFiles.write(
            NATSServerConfigFile.render(configuration, monitorPort: monitorPort, syncAlways: syncAlways, client: client),
            to: self.configuration.configFilePath)
    }

    /// Creates `path` with mode 0700, or tightens an existing one (an earlier version made it 0755). Blocking.
    private func makePrivateDirectory(_ path: String) throws {
        switch try PrivateFiles.makeDirectory(path) {
        case nil:
            break
        case .tightened(let mode):
            logger.notice(
                "made a data directory private (mode 0700)", metadata: ["directory": "\(path)", "was": "\(String(mode, radix: 8))"])
        case .refused(let mode, let reason):
            logger.warning(
                "cannot make a data directory private (mode 0700); its files that hold credentials are 0600 all the same",
                metadata: ["directory": "\(path)", "mode": "\(String(mode, radix: 8))", "error": "\(reason)"])
        }
    }

    /// Stops a nats-server an earlier run of this data directory left behind (found by its
    /// pid file and recognised by its command line): SIGTERM, SIGKILL after 5 s. Blocking.
    private func stopStaleServer() {
        guard let text = try? String(contentsOfFile: configuration.pidFilePath, encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
            ProcessInspection.isAlive(pid),
            let commandLine = ProcessInspection.commandLine(of: pid),
            commandLine.contains("nats-server"), commandLine.contains(configuration.configFilePath)
        else { return }
        logger.warning("stopping a nats-server left by an earlier run", metadata: ["pid": "\(pid)"])
        ProcessInspection.send(SIGTERM, to: pid)
        for _ in 0..<50 where ProcessInspection.isAlive(pid) { Thread.sleep(forTimeInterval: 0.1) }
        if ProcessInspection.isAlive(pid) {
            ProcessInspection.send(SIGKILL, to: pid)
            for _ in 0..<50 where ProcessInspection.isAlive(pid) { Thread.sleep(forTimeInterval: 0.02) }
        }
    }

    /// An exposed center whose nats-server predates hub-side checks of leaf permissions: a
    /// holder of the leaf credential speaking the leafnode protocol itself could bypass them.
    private func warnIfLeafPermissionsAreOnlyEnforcedByLeaves(binary: String) {
        guard case .center = configuration.mode, configuration.leafUser != nil || !configuration.moreLeafCredentials.isEmpty,
            !configuration.leafnodeHost.hasPrefix("127."), configuration.leafnodeHost != "localhost",
            let version = Self.version(binary: binary), !version.enforcesLeafPermissionsAtTheHub
        else { return }
        logger.warning(
            "nats-server \(version) does not itself check the leaf user's permissions (2.11.16, 2.12.7 and 2.14 do): genuine leaves are held to them, but a client holding the leaf credential could bypass them. Keep nats.leaf_password secret and prefer a current nats-server on an exposed center."
        )
    }

    /// The release of a nats-server binary, nil when it cannot be told. Blocking.
    static func version(binary: String) -> NATSServerVersion? {
        guard let child = try? ChildProcess.spawn(binary, arguments: ["--version"]) else { return nil }
        let handle = FileHandle(fileDescriptor: child.outputDescriptor, closeOnDealloc: true)
        let output = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        _ = child.waitForExit()
        return NATSServerVersion(parsing: output)
    }

    /// Whether this nats-server accepts `jetstream { sync_interval: always }` (2.10+), checked
    /// with `nats-server -t` on a scratch config. Blocking.
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
