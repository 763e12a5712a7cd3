import NIOConcurrencyHelpers

/// The key set tokens are verified with now, replaced whole when keys are reloaded (SIGHUP)
/// or a JWK Set is refreshed. Each replacement is a new generation: what was verified with an
/// older one is verified again.
public final class TokenKeys: Sendable {
    private struct State {
        var set: TokenKeySet
        var generation = 0
        var refresher: (@Sendable () async -> Void)?
        var missing: String?
    }

    private let state: NIOLockedValueBox<State>

    /// Keys starting with `set`.
    public init(_ set: TokenKeySet) {
        state = NIOLockedValueBox(State(set: set))
    }

    /// The set in use, and its generation.
    var current: (set: TokenKeySet, generation: Int) {
        state.withLockedValue { ($0.set, $0.generation) }
    }

    /// How many keys the set in use has.
    public var count: Int { state.withLockedValue { $0.set.count } }

    /// Puts `set` in use from the next verification on.
    public func replace(_ set: TokenKeySet) {
        state.withLockedValue {
            $0.set = set
            $0.generation += 1
        }
    }

    /// Why keys of a configured source are missing (an identity provider's JWK Set URL that
    /// has not answered yet), in words for an operator; nil when every source has been loaded.
    /// Meanwhile `/health/ready` says not ready and a token no key verifies gets 503.
    public var missing: String? { state.withLockedValue { $0.missing } }

    /// Sets ``missing``.
    public func setMissing(_ reason: String?) {
        state.withLockedValue { $0.missing = reason }
    }

    /// What to do when a token names a key no set has: fetch the JWK Sets again (the
    /// refresher decides how often it really does).
    public func onUnknownKey(_ refresh: @escaping @Sendable () async -> Void) {
        state.withLockedValue { $0.refresher = refresh }
    }

    /// Runs the refresher, if any. Returns whether the keys changed meanwhile.
    func refreshForUnknownKey(seenGeneration: Int) async -> Bool {
        guard let refresh = state.withLockedValue({ $0.refresher }) else { return false }
        await refresh()
        return state.withLockedValue { $0.generation } != seenGeneration
    }
}
