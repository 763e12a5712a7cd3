import PresenceCore
import ServiceLifecycle

/// Sends a keepalive to every open stream at a fixed interval (SPEC §3: every 15 s).
struct StreamKeepalive: Service {
    let hub: PresenceChangeHub
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                hub.keepalive()
            }
        }
    }
}
