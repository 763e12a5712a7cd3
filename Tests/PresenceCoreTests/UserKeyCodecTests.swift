import Testing
@testable import PresenceCore

@Suite("UserKeyCodec: user id <-> NATS KV key")
struct UserKeyCodecTests {
    static let plainKeyBytes = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_=-".utf8)

    static func isLegalKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.allSatisfy { plainKeyBytes.contains($0) }
    }

    @Test("known encodings", arguments: [
        ("alice", "alice"),
        ("Alice_Smith-01", "Alice_Smith-01"),
        (".", "=2E"),
        ("@", "=40"),
        ("+", "=2B"),
        (":", "=3A"),
        ("=", "=3D"),
        ("alice@example.com", "alice=40example=2Ecom"),
        ("a..b", "a=2E=2Eb"),
        ("josé", "jos=C3=A9"),
        ("用", "=E7=94=A8"),
        ("𝒜", "=F0=9D=92=9C"),
        ("auth0|123", "auth0=7C123"),
    ])
    func knownEncodings(raw: String, key: String) throws {
        let user = try UserID(validating: raw)
        #expect(UserKeyCodec.key(for: user) == key)
        #expect(UserKeyCodec.userID(forKey: key) == user)
    }

    @Test func exhaustiveShortIDsAreInjectiveReversibleAndLegal() throws {
        let alphabet = ["a", "Z", "0", ".", "_", "-", "@", "+", ":", "=", "é"]
        var ids = [String]()
        for a in alphabet {
            ids.append(a)
            for b in alphabet {
                ids.append(a + b)
                for c in alphabet { ids.append(a + b + c) }
            }
        }
        #expect(ids.count == 11 + 121 + 1331)
        var keyToID = [String: String]()
        for raw in ids {
            let user = try UserID(validating: raw)
            let key = UserKeyCodec.key(for: user)
            #expect(Self.isLegalKey(key), "illegal key \(key) for \(raw)")
            #expect(!key.contains("."), "a '.' would split the subject: \(key)")
            #expect(UserKeyCodec.userID(forKey: key)?.rawValue == raw, "round trip of \(raw) via \(key)")
            if let other = keyToID.updateValue(raw, forKey: key) {
                Issue.record("\(raw) and \(other) both map to \(key)")
            }
        }
        #expect(keyToID.count == ids.count)
    }

    @Test func randomLongIDsRoundTrip() throws {
        let alphabet: [Character] = [
            "a", "b", "Y", "Z", "0", "9", ".", "_", "-", "@", "+", ":", "=", "é", "ß", "用", "户", "𝒜", "Ω", "١",
        ]
        var rng = SplitMix64(seed: 0xC0DEC)
        var seenKeys = Set<String>()
        var seenIDs = Set<String>()
        for _ in 0..<2_000 {
            var raw = ""
            let length = Int.random(in: 1...60, using: &rng)
            for _ in 0..<length {
                let next = alphabet.randomElement(using: &rng)!
                if raw.utf8.count + String(next).utf8.count > UserID.maxBytes { break }
                raw.append(next)
            }
            let user = try UserID(validating: raw)
            let key = UserKeyCodec.key(for: user)
            #expect(Self.isLegalKey(key))
            #expect(UserKeyCodec.userID(forKey: key)?.rawValue == raw)
            if seenIDs.insert(raw).inserted {
                #expect(seenKeys.insert(key).inserted, "key collision on \(key)")
            }
        }
    }

    @Test func longestIDsRoundTrip() throws {
        for raw in [
            String(repeating: "a", count: 128), String(repeating: "@", count: 128), String(repeating: "é", count: 64),
            String(repeating: "𝒜", count: 32),
        ] {
            let user = try UserID(validating: raw)
            let key = UserKeyCodec.key(for: user)
            #expect(Self.isLegalKey(key))
            #expect(UserKeyCodec.userID(forKey: key) == user)
        }
        #expect(UserKeyCodec.key(for: try UserID(validating: String(repeating: "@", count: 128))).utf8.count == 384)
    }

    @Test("non-canonical or foreign keys are rejected", arguments: [
        "",  // empty
        "=61",  // 'a' must be written plain
        "=5F",  // '_' must be written plain
        "=2D",  // '-' must be written plain
        "=30",  // '0' must be written plain
        "=3d",  // lower-case hex
        "jos=c3=a9",  // lower-case hex
        "=",  // truncated escape
        "=4",  // truncated escape
        "abc=",  // truncated escape at the end
        "a=4",  // truncated escape at the end
        "=G0",  // not hex
        "=4G",  // not hex
        "a.b",  // a raw '.' is never written
        "a@b",  // '@' is illegal in keys and always escaped
        "a:b",
        "a/b",
        "a b",
        "=2F",  // decodes to '/', not a valid user id
        "=20",  // decodes to ' '
        "=00",  // decodes to NUL
        "=C3",  // truncated UTF-8
        "=C0=AE",  // overlong UTF-8 encoding of '.'
        "=FF",  // never valid UTF-8
        "=ED=A0=80",  // a UTF-16 surrogate in UTF-8
        "=F0=9F=98=80",  // a valid scalar (😀) that is not allowed in user ids
        "é",  // raw non-ASCII
    ])
    func rejectsNonCanonicalKeys(key: String) {
        #expect(UserKeyCodec.userID(forKey: key) == nil)
    }

    @Test func keyOfDecodedKeyIsTheSameKey() {
        // Every key that decodes is the canonical key of what it decodes to (so one id has exactly one key).
        for key in ["alice", "a=40b", "=3D=3D", "jos=C3=A9", "=2E", "x=3Ay=2Bz"] {
            guard let user = UserKeyCodec.userID(forKey: key) else {
                Issue.record("\(key) did not decode")
                continue
            }
            #expect(UserKeyCodec.key(for: user) == key)
        }
    }

    /// Swift `String` equality is canonical equivalence, so two ids that differ in their bytes can be
    /// equal `UserID`s (they then share a replica slot, a dedup entry, a sub comparison) while the
    /// codec maps them to different KV keys. Equal ids must have equal keys, and different keys must
    /// belong to different ids.
    @Test("UserID equality agrees with key equality for canonically equivalent ids", arguments: [
        ("\u{00C5}", "\u{212B}"),  // Å LATIN CAPITAL LETTER A WITH RING ABOVE vs ANGSTROM SIGN (both Lu)
        ("\u{AC00}", "\u{1100}\u{1161}"),  // Hangul syllable GA vs its conjoining jamo (all Lo)
        ("\u{03A9}", "\u{2126}"),  // GREEK CAPITAL LETTER OMEGA vs OHM SIGN (both Lu)
    ])
    func equalityMatchesKeys(first: String, second: String) throws {
        let a = try UserID(validating: first)
        let b = try UserID(validating: second)
        let sameKey = UserKeyCodec.key(for: a) == UserKeyCodec.key(for: b)
        #expect((a == b) == sameKey, "ids equal: \(a == b), keys equal: \(sameKey)")
    }
}
