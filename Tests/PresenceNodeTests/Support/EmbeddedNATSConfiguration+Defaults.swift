import EmbeddedNATS
import PresenceNode

extension EmbeddedNATSConfiguration {
    /// A configuration for tests with the configuration table's defaults (those of
    /// `NodeConfiguration()`) for every `nats.*` key but the binary (``TestNATSServer``): the
    /// sub-configuration has none of its own.
    init(serverName: String, dataDirectory: String, mode: Mode) {
        let defaults = NodeConfiguration()
        self.init(
            serverName: serverName, dataDirectory: dataDirectory, mode: mode, serverBinary: TestNATSServer.binary,
            clientPort: defaults.natsClientPort, monitorPort: defaults.natsMonitorPort,
            leafnodeHost: defaults.natsLeafnodeHost)
    }
}
