import ArgumentParser
import Foundation
import PresenceHTTP
import PresenceNode

/// `presence backup DIR`: the presence bucket's records, online, from the center running on
/// this data directory (see ``BucketBackup``).
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write the presence bucket's records into DIR, online, from the center running on this data directory.")

    @Argument(help: "The backup directory (created; its files are 0600).") var directory: String
    @OptionGroup var center: RunningCenterOptions

    func run() async throws {
        let configuration = try center.configuration()
        do {
            let manifest = try await BucketBackup.backup(configuration, version: ServiceVersion.current, into: directory)
            print(
                "backed up \(manifest.records) records of bucket \(manifest.bucket) and \(manifest.auditEntries ?? 0) audit entries into \(directory)")
        } catch {
            CommandSupport.fail("\(error)", exitCode: 1)
        }
    }
}

/// `presence restore DIR`: writes every record of a backup that the bucket does not have,
/// online, through the center running on this data directory (see ``BucketBackup``).
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Write every record of the backup in DIR that the bucket lacks, online, through the center running on this data directory.")

    @Argument(help: "A directory written by presence backup.") var directory: String
    @OptionGroup var center: RunningCenterOptions

    func run() async throws {
        let configuration = try center.configuration()
        do {
            let restored = try await BucketBackup.restore(from: directory, configuration)
            print(
                "restored \(restored.written) records from \(directory); \(restored.present) were in the bucket already (kept: they are newer); \(restored.audit)")
        } catch {
            CommandSupport.fail("\(error)", exitCode: 1)
        }
    }
}

/// The options that name the center a tool works through: its configuration file, or just its
/// data directory (where its NATS credential is).
struct RunningCenterOptions: ParsableArguments {
    @Option(help: "YAML configuration file of the center.") var config: String?
    @Option(name: .customLong("data-dir"), help: "The center's data directory.") var dataDir: String?

    /// The center's configuration; only the data directory and node id matter here, so the
    /// keys are not checked together (a clustered center's environment without its flags).
    func configuration() throws -> NodeConfiguration {
        try CommandSupport.loadConfiguration(
            file: config, flags: dataDir.map { ["nats.data_dir": $0] } ?? [:], checkingKeysTogether: false)
    }
}
