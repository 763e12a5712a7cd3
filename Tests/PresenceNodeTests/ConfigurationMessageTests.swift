import Foundation
import Testing

@testable import PresenceNode

/// Mistakes a new user makes, reported in our words (issue 28): one line naming our key and
/// the bad value, before nats-server sees anything.
@Suite(.temporaryFiles)
struct ConfigurationMessageTests {
    private func loadError(environment: [String: String] = [:], flags: [String: String] = [:]) -> String {
        do {
            _ = try NodeConfiguration.load(file: nil, environment: environment, flags: flags)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func aHubURLWithoutASchemeNamesTheKeyAndTheValue() {
        let message = loadError(environment: ["PRESENCE_SERVICE_ROLE": "leaf", "PRESENCE_NATS_HUB_URLS": "center:7422"])
        #expect(
            message
                == "invalid value for 'nats.hub_urls' (environment variable PRESENCE_NATS_HUB_URLS): 'center:7422' has no scheme: write nats-leaf://center:7422",
            "\(message)")
    }

    @Test func everyHubURLIsCheckedForSchemeHostAndPort() throws {
        let bad: [(String, String)] = [
            ("http://center:7422", "has the scheme 'http': use nats-leaf, nats, tls, ws, wss"),
            ("nats-leaf://:7422", "has no host"),
            ("nats-leaf://center", "has no port"),
            ("nats-leaf://center:70000", "has the port 70000, outside 1…65535"),
            ("nats-leaf://center:0", "has the port 0, outside 1…65535"),
            ("nats-leaf://center:leaf", "has no valid port ('leaf')"),
        ]
        for (url, problem) in bad {
            let message = loadError(flags: ["service.role": "leaf", "nats.hub_urls": "nats-leaf://ok:7422," + url])
            #expect(message == "invalid value for 'nats.hub_urls' (command line): '\(url)' \(problem)", "\(message)")
        }
        let good = ["nats-leaf://center:7422", "nats://10.0.0.5:7422", "tls://center.example:7422", "ws://center", "wss://center/leafnode",
            "nats-leaf://[::1]:7422", "NATS-LEAF://Center:7422"]
        let configuration = try NodeConfiguration.load(
            file: nil, environment: [:], flags: ["service.role": "leaf", "nats.hub_urls": good.joined(separator: ",")])
        #expect(configuration.hubURLs == good)
    }

    @Test func routeURLsAreCheckedToo() {
        let message = loadError(flags: ["nats.cluster.routes": "c2:6222"])
        #expect(message.hasPrefix("invalid value for 'nats.cluster.routes' (command line): 'c2:6222' has no scheme: write nats-route://c2:6222"), "\(message)")
    }

    /// Kubernetes injects `PRESENCE_NATS_LEAFNODE_PORT=tcp://…` for a Service named
    /// presence-nats-leafnode: the message says which variable and where it comes from.
    @Test func aKubernetesServiceLinkInAKeysVariableIsNamedAsOne() {
        let message = loadError(environment: ["PRESENCE_NATS_LEAFNODE_PORT": "tcp://10.0.0.1:7422"])
        #expect(
            message
                == "invalid value for 'nats.leafnode_port' (environment variable PRESENCE_NATS_LEAFNODE_PORT: it looks like a Kubernetes service link of a Service named presence-nats-leafnode; set enableServiceLinks: false in the pod spec): 'tcp://10.0.0.1:7422' is not an integer",
            "\(message)")
        let plain = loadError(environment: ["PRESENCE_NATS_LEAFNODE_PORT": "seven"])
        #expect(plain == "invalid value for 'nats.leafnode_port' (environment variable PRESENCE_NATS_LEAFNODE_PORT): 'seven' is not an integer")
        #expect(KubernetesServiceLink.isServiceLink("udp://[fd00::1]:53"))
        #expect(!KubernetesServiceLink.isServiceLink("tcp://host"))
        #expect(!KubernetesServiceLink.isServiceLink("nats://10.0.0.1:4222"))
    }
}
