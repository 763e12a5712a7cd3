import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Keeps a node's token keys current (SPEC §4) in its ``TokenKeys``:
/// - fetches `auth.jwks_url` in ``run()``: at once, then again after a short backoff
///   (``retryDelays``) until it has answered once, then every `auth.jwks_refresh` seconds,
///   and at once when a token names a `kid` no key has, at most once per ``unknownKeyInterval``;
/// - on SIGHUP (``reload(_:)``), reads the secret, the PEM file and the JWK Set file again and
///   puts them in use at once, then fetches the URL in the background.
///
/// At most one fetch is in flight (``JWKSFetcher``, bounded by its deadline); whoever needs
/// one meanwhile waits for it, and a SIGHUP during a fetch asks for one more after it
/// (``JWKSFetchStateMachine``). A fetch never blocks SIGHUP or the file keys. A reload or
/// fetch that fails keeps the keys in use and logs why. A key set is put in use only if nothing else changed the keys while it
/// was built, so a slow fetch never brings back keys a reload removed. Until the URL has
/// answered once, ``TokenKeys/missing`` says so (for `/health/ready` and a 503 to writers).
public final class TokenKeyReloader: Service, Sendable {
    /// The least time between two fetches caused by unknown `kid`s.
    static let unknownKeyInterval: Duration = .seconds(10)
    /// The waits between attempts until the URL has answered once (the last one repeats,
    /// never longer than the refresh interval).
    static let retryDelays: [Duration] = [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(15)]

    private struct State {
        var sources: TokenKeySources
        /// The files' material as read at start or at the last SIGHUP.
        var fileMaterial: TokenKeySet.Material
        /// The URL's last document; nil until it has answered (again after the URL changed).
        var fetchedJWKS: String?
        /// Why the last fetch failed, nil after a success.
        var lastFailure: String?
        /// Counts the key sets put in use: a refresh applies only over the one it started from.
        var generation = 0
        var fetches = JWKSFetchStateMachine(unknownKeyInterval: TokenKeyReloader.unknownKeyInterval)
        /// Waiting for the fetch in flight to end.
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let keys: TokenKeys
    private let interval: Duration
    private let logger: Logger
    private let state: NIOLockedValueBox<State>
    private let requests: AsyncStream<Void>
    private let requestContinuation: AsyncStream<Void>.Continuation

    /// A reloader of `keys` (the verifier's), which from now on fetches the URL again when a
    /// token names an unknown `kid`.
    /// - Parameters:
    ///   - fileMaterial: what ``TokenKeySources/fileMaterial()`` read at start.
    ///   - interval: the time between two scheduled fetches of the URL (`auth.jwks_refresh`).
    public init(
        keys: TokenKeys, sources: TokenKeySources, fileMaterial: TokenKeySet.Material,
        interval: Duration, logger: Logger
    ) {
        self.keys = keys
        self.interval = interval
        self.logger = logger
        self.state = NIOLockedValueBox(State(sources: sources, fileMaterial: fileMaterial))
        (requests, requestContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        Self.publishMissing(state: state, keys: keys)
        keys.onUnknownKey { [weak self] in await self?.refreshForUnknownKey() }
    }

    /// Fetches the URL on its schedule and when asked, until graceful shutdown.
    public func run() async {
        let fetcher = JWKSFetcher()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.fetchWhenAsked(with: fetcher) }
                group.addTask { await self.schedule() }
            }
        }
        await fetcher.shutdown()
    }

    /// SIGHUP: puts `sources` in use at once with their files read again (and the URL's last
    /// document, when the URL is the same), then fetches the URL in the background.
    public func reload(_ sources: TokenKeySources) async {
        do {
            let fileMaterial = try sources.fileMaterial()
            // Read and built again under the lock's eye: a fetch may put a document in use meanwhile.
            var applied = false
            while !applied {
                let (sameURL, current, generation) = state.withLockedValue {
                    ($0.sources.jwksURL == sources.jwksURL, $0.fetchedJWKS, $0.generation)
                }
                let fetched = sameURL ? current : nil
                let set = try await TokenKeySet(fileMaterial.adding(jwks: fetched), allowingNone: sources.jwksURL != nil)
                applied = state.withLockedValue {
                    guard $0.generation == generation else { return false }
                    if !sameURL { $0.lastFailure = nil }
                    $0.sources = sources
                    $0.fileMaterial = fileMaterial
                    $0.fetchedJWKS = fetched
                    $0.generation += 1
                    keys.replace(set)
                    return true
                }
                if applied {
                    logger.info("token keys reloaded", metadata: ["keys": "\(set.count)", "skipped_jwks_keys": "\(set.skippedKeys)"])
                }
            }
            Self.publishMissing(state: state, keys: keys)
        } catch {
            logger.error("cannot reload the token keys; keeping the ones in use", metadata: ["error": "\(error)"])
            return
        }
        if sources.jwksURL != nil { await request(.background) }
    }

    /// Waits for the fetch in flight, or fetches at once when none started for an unknown
    /// kid within ``unknownKeyInterval``.
    private func refreshForUnknownKey() async {
        await request(.unknownKey(ContinuousClock.now))
    }

    /// Asks ``fetchWhenAsked(with:)`` for a fetch, as `kind` says; returns when it may.
    private func request(_ kind: JWKSFetchStateMachine.Request) async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let wait = state.withLockedValue { state -> Bool in
                guard state.sources.jwksURL != nil else { return false }
                let action = state.fetches.request(kind)
                if action.start { requestContinuation.yield() }
                if action.wait { state.waiters.append(waiter) }
                return action.wait
            }
            if !wait { waiter.resume() }
        }
    }

    /// Runs the fetches asked for, one at a time, and wakes their waiters.
    private func fetchWhenAsked(with fetcher: JWKSFetcher) async {
        for await _ in requests {
            var again = true
            while again {
                await fetchOnce(with: fetcher)
                // Whoever waited for this fetch goes on; one asked for meanwhile follows it.
                let waiters: [CheckedContinuation<Void, Never>]
                (again, waiters) = state.withLockedValue { state in
                    defer { state.waiters = [] }
                    return (state.fetches.fetchEnded(cancelled: Task.isCancelled), state.waiters)
                }
                for waiter in waiters { waiter.resume() }
            }
        }
        // Cancelled: nothing fetches any more, so nobody may wait.
        let waiters = state.withLockedValue { state in
            state.fetches.stop()
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The URL fetched at once, again after ``retryDelays`` until it answers, then every
    /// refresh interval after the end of the last fetch (which ends by its deadline).
    private func schedule() async {
        var attempt = 0
        while !Task.isCancelled {
            await request(.scheduled)
            let answered = state.withLockedValue { $0.fetchedJWKS != nil || $0.sources.jwksURL == nil }
            let delay =
                answered ? interval : min(Self.retryDelays[min(attempt, Self.retryDelays.count - 1)], interval)
            attempt = answered ? 0 : attempt + 1
            do { try await Task.sleep(for: delay) } catch { return }
        }
    }

    /// Fetches the URL; when its document changed, puts the new keys in use.
    private func fetchOnce(with fetcher: JWKSFetcher) async {
        let (sources, fileMaterial, previous, generation) = state.withLockedValue {
            ($0.sources, $0.fileMaterial, $0.fetchedJWKS, $0.generation)
        }
        guard let url = sources.jwksURL else { return }
        do {
            let document = try await fetcher.fetch(url)
            if document == previous {
                state.withLockedValue { $0.lastFailure = nil }
                return
            }
            let set = try await TokenKeySet(fileMaterial.adding(jwks: document), allowingNone: true)
            let applied = state.withLockedValue { state in
                // Another reload or refresh finished meanwhile: its keys are newer than these.
                guard state.generation == generation else { return false }
                state.fetchedJWKS = document
                state.lastFailure = nil
                state.generation += 1
                keys.replace(set)
                return true
            }
            if applied {
                Self.publishMissing(state: state, keys: keys)
                logger.info(
                    "JWK Set changed",
                    metadata: [
                        "url": "\(TokenKeySources.redacted(url))", "keys": "\(set.count)",
                        "skipped_jwks_keys": "\(set.skippedKeys)",
                    ])
            }
        } catch {
            let described = (error as? JWKSFetchFailure)?.description ?? "auth.jwks_url \(TokenKeySources.redacted(url)): \(error)"
            state.withLockedValue { $0.lastFailure = described }
            Self.publishMissing(state: state, keys: keys)
            logger.warning("cannot fetch the JWK Set; keeping the keys in use", metadata: ["error": "\(described)"])
        }
    }

    /// Tells `keys` what is missing: the URL's keys until it has answered once.
    private static func publishMissing(state: NIOLockedValueBox<State>, keys: TokenKeys) {
        state.withLockedValue { state in
            guard let url = state.sources.jwksURL, state.fetchedJWKS == nil else {
                keys.setMissing(nil)
                return
            }
            let why = state.lastFailure ?? "auth.jwks_url \(TokenKeySources.redacted(url)) has not answered yet"
            keys.setMissing(keys.count == 0 ? "no token keys yet: \(why)" : "the keys of auth.jwks_url are not loaded yet: \(why)")
        }
    }
}
