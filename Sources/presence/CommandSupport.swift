import ArgumentParser
import Foundation
import PresenceNode

/// Shared by the subcommands: load the configuration or exit 2 with the message on stderr.
enum CommandSupport {
    static func loadConfiguration(file: String?, flags: [String: String], checkingKeysTogether: Bool = true) throws
        -> NodeConfiguration
    {
        do {
            return try NodeConfiguration.load(
                file: file, environment: ProcessInfo.processInfo.environment, flags: flags,
                checkingKeysTogether: checkingKeysTogether)
        } catch {
            fail("\(error)")
        }
    }

    /// Prints `presence: <message>` to stderr and exits (2: a configuration or usage mistake).
    static func fail(_ message: String, exitCode: Int32 = 2) -> Never {
        FileHandle.standardError.write(Data("presence: \(message)\n".utf8))
        Foundation.exit(exitCode)
    }
}
