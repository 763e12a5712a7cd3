import Foundation
import NIOConcurrencyHelpers

/// Tokens that passed verification, with what they prove and their time window.
///
/// A bearer token is sent again and again until it expires; checking its signature and
/// decoding its claims every time cost more than the rest of a write. Everything a
/// verification establishes except the time window is fixed by the token's bytes, so the
/// result is kept by the exact token text. Bounded: past `capacity` an arbitrary entry makes
/// room. A token that fails is never cached.
final class VerifiedTokenCache: Sendable {
    /// What a verified token proves and when it may be used.
    struct Entry: Sendable {
        var identity: TokenVerifier.Identity
        var expires: Date
        var notBefore: Date?
        /// The ``TokenKeys`` generation it was verified with; another one verifies it again.
        var keyGeneration: Int
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    private let capacity: Int

    /// A cache of at most `capacity` tokens (0 disables it).
    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The entry for `token`, if it was verified before.
    func lookup(_ token: String) -> Entry? {
        guard capacity > 0 else { return nil }
        return entries.withLockedValue { $0[token] }
    }

    /// Remembers a verified token.
    func insert(_ token: String, _ entry: Entry) {
        guard capacity > 0 else { return }
        entries.withLockedValue { entries in
            if entries.count >= capacity, entries[token] == nil {
                entries.remove(at: entries.startIndex)
            }
            entries[token] = entry
        }
    }

    /// How many tokens are held.
    var count: Int { entries.withLockedValue { $0.count } }
}
