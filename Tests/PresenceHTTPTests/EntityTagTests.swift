import PresenceCore
import Testing

@testable import PresenceHTTP

@Suite("EntityTag: ETag, If-Match, If-None-Match")
struct EntityTagTests {
    @Test func etagIsTheQuotedRevision() {
        #expect(EntityTag.of(42) == #""42""#)
        #expect(EntityTag.of(0) == #""0""#)
        #expect(EntityTag.of(.max) == #""18446744073709551615""#)
    }

    @Test func aStoredRecordsETagIsItsRevisions() throws {
        let record = PresenceRecord(
            userID: try UserID(validating: "alice"), status: .online, message: "", lastSeen: Timestamp(millisecondsSinceEpoch: 0),
            updatedAt: Timestamp(millisecondsSinceEpoch: 0), nodeID: "n", ttl: 60, revision: 99)
        #expect(EntityTag.of(StoredPresence(record).publicRevision) == #""99""#)
    }

    @Test("If-Match forms", arguments: [
        (#""42""#, RevisionMatch.revision(42)),
        (#" "42" "#, .revision(42)),
        (#""0""#, .revision(0)),
        (#""18446744073709551615""#, .revision(.max)),
        ("*", .any),
        (" * ", .any),
        (#""1", *"#, .any),
        (#"W/"42""#, RevisionMatch.none),
        ("42", RevisionMatch.none),
        (#""""#, RevisionMatch.none),
        (#"""#, RevisionMatch.none),
        ("", RevisionMatch.none),
        (#""abc""#, RevisionMatch.none),
        (#""-1""#, RevisionMatch.none),
        (#""4 2""#, RevisionMatch.none),
        (#""18446744073709551616""#, RevisionMatch.none),
        (#"'42'"#, RevisionMatch.none),
        (#"W/"42", "43""#, .revision(43)),
    ])
    func ifMatch(header: String, expected: RevisionMatch) {
        #expect(EntityTag.parseIfMatch(header) == expected)
    }

    @Test func noIfMatchHeader() {
        #expect(EntityTag.parseIfMatch(nil) == nil)
    }

    /// If-Match uses the strong comparison (RFC 9110 §13.1.1, §8.8.3.2): the opaque tags must be
    /// identical character by character, and the ETag of revision 42 is exactly `"42"`.
    @Test("If-Match tags that are not an ETag we send never match", arguments: [#""+42""#, #""042""#, #""0042""#])
    func ifMatchIsAStrongComparison(header: String) {
        #expect(EntityTag.parseIfMatch(header) == RevisionMatch.none)
    }

    @Test func ifMatchRoundTripsOurETags() {
        for revision: UInt64 in [0, 1, 9, 10, 42, 1_000_000, .max] {
            #expect(EntityTag.parseIfMatch(EntityTag.of(revision)) == .revision(revision))
        }
    }

    @Test func ifNoneMatch() {
        #expect(!EntityTag.ifNoneMatch(nil, matches: 42))
        #expect(!EntityTag.ifNoneMatch("", matches: 42))
        #expect(EntityTag.ifNoneMatch(#""42""#, matches: 42))
        #expect(!EntityTag.ifNoneMatch(#""41""#, matches: 42))
        #expect(!EntityTag.ifNoneMatch(#""420""#, matches: 42))
        #expect(!EntityTag.ifNoneMatch(#""042""#, matches: 42))
        #expect(!EntityTag.ifNoneMatch("42", matches: 42))
        // Weak comparison: W/"42" matches.
        #expect(EntityTag.ifNoneMatch(#"W/"42""#, matches: 42))
        #expect(!EntityTag.ifNoneMatch(#"W/"41""#, matches: 42))
        #expect(EntityTag.ifNoneMatch("*", matches: 42))
        #expect(EntityTag.ifNoneMatch(" * ", matches: 7))
        // Lists.
        #expect(EntityTag.ifNoneMatch(#""41", "42""#, matches: 42))
        #expect(EntityTag.ifNoneMatch(#""41","42""#, matches: 42))
        #expect(EntityTag.ifNoneMatch("\"41\",\tW/\"42\" , \"43\"", matches: 42))
        #expect(!EntityTag.ifNoneMatch(#""41", "43", W/"44""#, matches: 42))
        #expect(EntityTag.ifNoneMatch(EntityTag.of(.max), matches: .max))
    }
}

/// ETags once heartbeats moved a body without a new revision (SPEC §3a).
struct HeartbeatEntityTagTests {
    let heard = Timestamp(millisecondsSinceEpoch: 1_795_255_200_123)

    @Test func aHeardHeartbeatShowsAfterTheRevision() {
        #expect(EntityTag.of(42, heardAt: heard) == #""42.1795255200123""#)
        #expect(EntityTag.of(42, heardAt: nil) == #""42""#)
    }

    @Test func ifMatchComparesTheRevisionAlone() {
        #expect(EntityTag.parseIfMatch(#""42.1795255200123""#) == .revision(42))
        #expect(EntityTag.parseIfMatch(#""42.1", "43""#) == .oneOf([42, 43]))
        #expect(EntityTag.parseIfMatch(#""42.""#) == RevisionMatch.none)
        #expect(EntityTag.parseIfMatch(#""42.x1""#) == RevisionMatch.none)
        #expect(EntityTag.parseIfMatch(#"".5""#) == RevisionMatch.none)
    }

    @Test func ifNoneMatchNeedsTheWholeTag() {
        #expect(EntityTag.ifNoneMatch(#""42.1795255200123""#, matches: 42, heardAt: heard))
        #expect(!EntityTag.ifNoneMatch(#""42""#, matches: 42, heardAt: heard), "the body moved since that tag")
        #expect(!EntityTag.ifNoneMatch(#""42.1795255200123""#, matches: 42), "the tag of a body this node no longer serves")
        #expect(EntityTag.ifNoneMatch(#"W/"42.1795255200123""#, matches: 42, heardAt: heard))
    }
}
