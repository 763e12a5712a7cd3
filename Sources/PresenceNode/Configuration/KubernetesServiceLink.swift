/// The variables Kubernetes puts into every container of a namespace for each Service unless
/// the pod sets `enableServiceLinks: false`: a Service named `presence-nats-leafnode` brings
/// `PRESENCE_NATS_LEAFNODE_PORT=tcp://10.0.0.1:7422`, which is also the name of our key
/// `nats.leafnode_port`. Such a value is not the operator's: a message about it says so.
enum KubernetesServiceLink {
    /// The source of a key's value for a message: the environment variable, and when its
    /// value has the shape of a service link (`tcp://10.0.0.1:7422`), where it comes from.
    static func describe(variable: String, value: String?) -> String {
        guard let value, isServiceLink(value) else { return "environment variable \(variable)" }
        var service = ""
        if variable.hasSuffix("_PORT") {
            service = " of a Service named " + variable.dropLast("_PORT".count).lowercased().replacingOccurrences(of: "_", with: "-")
        }
        return "environment variable \(variable): it looks like a Kubernetes service link\(service); set enableServiceLinks: false in the pod spec"
    }

    /// `tcp://`, `udp://` or `sctp://`, then an address and a port: what Kubernetes writes
    /// into `<SERVICE>_PORT` and `<SERVICE>_PORT_<port>_<PROTOCOL>`.
    static func isServiceLink(_ value: String) -> Bool {
        for scheme in ["tcp://", "udp://", "sctp://"] where value.hasPrefix(scheme) {
            let address = value.dropFirst(scheme.count)
            guard let colon = address.lastIndex(of: ":") else { return false }
            let port = address[address.index(after: colon)...]
            return colon != address.startIndex && !port.isEmpty && port.allSatisfy { $0.isASCII && $0.isNumber }
        }
        return false
    }
}
