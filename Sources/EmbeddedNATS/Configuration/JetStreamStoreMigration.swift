import Foundation

/// Moves a center's JetStream data written by v0.1, which kept the bucket in nats-server's
/// global account (`$G`), into the presence account that v0.2 configures (see
/// ``NATSServerConfigFile``). nats-server keeps each account's streams in a folder named after
/// the account, so the move is a rename, done while nats-server is not running.
enum JetStreamStoreMigration {
    /// Renames `<store>/jetstream/$G` to `<store>/jetstream/<account>` when the first exists
    /// and the second does not.
    /// - Returns: whether anything was moved.
    @discardableResult
    static func moveGlobalAccount(storeDirectory: String, to account: String) throws -> Bool {
        let root = storeDirectory + "/jetstream"
        let global = root + "/$G"
        let target = root + "/" + account
        let files = FileManager.default
        guard files.fileExists(atPath: global), !files.fileExists(atPath: target) else { return false }
        try files.moveItem(atPath: global, toPath: target)
        return true
    }
}
