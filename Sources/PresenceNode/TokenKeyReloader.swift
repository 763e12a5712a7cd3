import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import NIOConcurrencyHelpers
import PresenceHTTP
import ServiceLifecycle

/// Keeps a node's token keys current (SPEC §4) in its ``TokenKeys``:
/// - fetches `auth.jwks_url` every `auth.jwks_refresh` seconds, and at once when a token
///   names a `kid` no key has, at most once per ``unknownKeyInterval``;
/// - on SIGHUP (``reload(_:)``), reads the secret, the PEM file and the JWK Set file again,
///   and fetches the URL.
///
/// A reload or fetch that fails keeps the keys in use and logs why.
final class TokenKeyReloader: Service, Sendable {
    /// The least time between two fetches caused by unknown `kid`s.
    static let unknownKeyInterval: Duration = .seconds(10)

    private struct State {
        var sources: TokenKeySources
        var fetchedJWKS: String?
        var lastUnknownKeyFetch: ContinuousClock.Instant?
    }

    private let keys: TokenKeys
    private let interval: Duration
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    init(keys: TokenKeys, sources: TokenKeySources, fetchedJWKS: String?, interval: Duration, logger: Logger) {
        self.keys = keys
        self.interval = interval
        self.logger = logger
        self.state = NIOLockedValueBox(State(sources: sources, fetchedJWKS: fetchedJWKS))
        keys.onUnknownKey { [weak self] in await self?.refreshForUnknownKey() }
    }

    /// Fetches `url`'s JWK Set document. - Throws: when it cannot be fetched or is not a 200.
    static func fetch(_ url: URL) async throws -> String {
        var request = URLRequest(url: url, timeoutInterval: 5)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else { throw ConfigurationError("\(url) answered \(status)") }
        return String(decoding: data, as: UTF8.self)
    }

    func run() async throws {
        guard state.withLockedValue({ $0.sources.jwksURL }) != nil else {
            try await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: self.interval)
                await self.refresh(reason: "scheduled")
            }
        }
    }

    /// SIGHUP: puts `sources` in use, with their files read again and the URL fetched again.
    func reload(_ sources: TokenKeySources) async {
        var fetched = state.withLockedValue { $0.fetchedJWKS }
        if let url = sources.jwksURL {
            do {
                fetched = try await Self.fetch(url)
            } catch {
                logger.error(
                    "cannot fetch auth.jwks_url; keeping its keys as last fetched",
                    metadata: ["url": "\(url)", "error": "\(error)"])
            }
        } else {
            fetched = nil
        }
        do {
            let set = try await TokenKeySet(sources.material(fetchedJWKS: fetched))
            state.withLockedValue {
                $0.sources = sources
                $0.fetchedJWKS = fetched
            }
            keys.replace(set)
            logger.info("token keys reloaded", metadata: ["keys": "\(set.count)"])
        } catch {
            logger.error("cannot reload the token keys; keeping the ones in use", metadata: ["error": "\(error)"])
        }
    }

    /// Fetches the URL again, at most once per ``unknownKeyInterval``.
    private func refreshForUnknownKey() async {
        let now = ContinuousClock.now
        let due = state.withLockedValue { state in
            if let last = state.lastUnknownKeyFetch, now - last < Self.unknownKeyInterval { return false }
            state.lastUnknownKeyFetch = now
            return true
        }
        if due { await refresh(reason: "unknown kid") }
    }

    /// Fetches the URL; when its document changed, puts the new keys in use.
    private func refresh(reason: String) async {
        let (sources, previous) = state.withLockedValue { ($0.sources, $0.fetchedJWKS) }
        guard let url = sources.jwksURL else { return }
        do {
            let document = try await Self.fetch(url)
            guard document != previous else { return }
            let set = try await TokenKeySet(sources.material(fetchedJWKS: document))
            state.withLockedValue { $0.fetchedJWKS = document }
            keys.replace(set)
            logger.info("JWK Set changed", metadata: ["url": "\(url)", "reason": "\(reason)", "keys": "\(set.count)"])
        } catch {
            logger.warning(
                "cannot refresh auth.jwks_url; keeping the keys in use",
                metadata: ["url": "\(url)", "reason": "\(reason)", "error": "\(error)"])
        }
    }
}
