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
/// A reload or fetch that fails keeps the keys in use and logs why. A key set is put in use
/// only if nothing else changed the sources or the fetched document while it was built, so
/// a slow fetch never brings back keys a reload removed.
final class TokenKeyReloader: Service, Sendable {
    /// The least time between two fetches caused by unknown `kid`s.
    static let unknownKeyInterval: Duration = .seconds(10)

    private struct State {
        var sources: TokenKeySources
        /// The files' material as read at start or at the last SIGHUP.
        var fileMaterial: TokenKeySet.Material
        var fetchedJWKS: String?
        var lastUnknownKeyFetch: ContinuousClock.Instant?
        /// Counts the key sets put in use: a refresh applies only over the one it started from.
        var generation = 0
    }

    private let keys: TokenKeys
    private let interval: Duration
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    /// - Parameter fileMaterial: what ``TokenKeySources/fileMaterial()`` read at start.
    init(
        keys: TokenKeys, sources: TokenKeySources, fileMaterial: TokenKeySet.Material, fetchedJWKS: String?,
        interval: Duration, logger: Logger
    ) {
        self.keys = keys
        self.interval = interval
        self.logger = logger
        self.state = NIOLockedValueBox(State(sources: sources, fileMaterial: fileMaterial, fetchedJWKS: fetchedJWKS))
        keys.onUnknownKey { [weak self] in await self?.refreshForUnknownKey() }
    }

    /// No cache: a provider's `Cache-Control` must not hide a rotation.
    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        return URLSession(configuration: configuration)
    }()

    /// Fetches `url`'s JWK Set document. - Throws: when it cannot be fetched or is not a 200.
    static func fetch(_ url: URL) async throws -> String {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 5)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let (data, response) = try await session.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else { throw ConfigurationError("\(TokenKeySources.redacted(url)) answered \(status)") }
        return String(decoding: data, as: UTF8.self)
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: self.interval)
                await self.refresh(reason: "scheduled")
            }
        }
    }

    /// SIGHUP: puts `sources` in use, with their files read again and the URL fetched again.
    func reload(_ sources: TokenKeySources) async {
        var fetched: String?
        if let url = sources.jwksURL {
            do {
                fetched = try await Self.fetch(url)
            } catch {
                logger.error(
                    "cannot fetch auth.jwks_url; its keys are those last fetched from it, if any",
                    metadata: ["url": "\(TokenKeySources.redacted(url))", "error": "\(error)"])
            }
        }
        do {
            let fileMaterial = try sources.fileMaterial()
            // Built and put in use under the lock when the fetch failed: the last document
            // (of the same URL) is the one a refresh may have put in use meanwhile.
            var set = try await TokenKeySet(fileMaterial.adding(jwks: fetched))
            if fetched == nil, sources.jwksURL != nil {
                let (sameURL, current) = state.withLockedValue { ($0.sources.jwksURL == sources.jwksURL, $0.fetchedJWKS) }
                if sameURL, let current {
                    fetched = current
                    set = try await TokenKeySet(fileMaterial.adding(jwks: current))
                }
            }
            state.withLockedValue {
                $0.sources = sources
                $0.fileMaterial = fileMaterial
                $0.fetchedJWKS = fetched
                $0.generation += 1
                keys.replace(set)
            }
            logger.info("token keys reloaded", metadata: ["keys": "\(set.count)", "skipped_jwks_keys": "\(set.skippedKeys)"])
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
        let (sources, fileMaterial, previous, generation) = state.withLockedValue {
            ($0.sources, $0.fileMaterial, $0.fetchedJWKS, $0.generation)
        }
        guard let url = sources.jwksURL else { return }
        let shownURL = TokenKeySources.redacted(url)
        do {
            let document = try await Self.fetch(url)
            guard document != previous else { return }
            let set = try await TokenKeySet(fileMaterial.adding(jwks: document))
            let applied = state.withLockedValue { state in
                // Another reload or refresh finished meanwhile: its keys are newer than these.
                guard state.generation == generation else { return false }
                state.fetchedJWKS = document
                state.generation += 1
                keys.replace(set)
                return true
            }
            if applied {
                logger.info(
                    "JWK Set changed",
                    metadata: ["url": "\(shownURL)", "reason": "\(reason)", "keys": "\(set.count)", "skipped_jwks_keys": "\(set.skippedKeys)"])
            }
        } catch {
            logger.warning(
                "cannot refresh auth.jwks_url; keeping the keys in use",
                metadata: ["url": "\(shownURL)", "reason": "\(reason)", "error": "\(error)"])
        }
    }
}
