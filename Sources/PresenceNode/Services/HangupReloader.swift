import Logging
import ServiceLifecycle
import UnixSignals

/// Re-reads what can change without a restart when the process gets SIGHUP (SPEC §8): the JWT
/// secret and keys (``TokenKeyReloader``). Connections stay open.
struct HangupReloader: Service {
    let logger: Logger
    /// Called once per SIGHUP, one at a time.
    let reload: @Sendable () async -> Void

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading the token keys")
            await reload()
        }
    }
}
