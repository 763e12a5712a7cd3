import Foundation
import Testing
@testable import PresenceCore

/// The fast reader of the encoders' own layout agrees with the general reader on everything
/// it accepts, and leaves everything else to it.
@Suite("Canonical presence JSON")
struct CanonicalPresenceJSONTests {
    static let messages = ["", "In a meeting until 15:00", "café ☕️ 会议中", "x".repeated(200), "tab\there", #"say "hi""#, "back\\slash"]
    static let users = ["alice", "u", "user-42", "bob_smith"]

    static var records: [PresenceRecord] {
        var all: [PresenceRecord] = []
        for (index, message) in messages.enumerated() {
            for user in users {
                for status in PresenceStatus.allCases {
                    all.append(
                        record(
                            user, status: status, message: message, lastSeen: t0,
                            updatedAt: at(t0, plusMillis: Int64(index * 1_001)), nodeID: index % 2 == 0 ? "leaf-eu-1" : "",
                            ttl: [0, 10, 300, Int(Int32.max)][index % 4], revision: UInt64(index + 1)))
                }
            }
        }
        return all
    }

    @Test func valuesAndBodiesReadAsTheGeneralReaderReadsThem() throws {
        var fast = 0
        for original in Self.records {
            for bytes in [PresenceJSON.encodeValue(original), PresenceJSON.encodeResponse(original)] {
                let strict = try #require(PresenceJSON.decodeValueStrictly(bytes, revision: 7))
                let canonical = CanonicalPresenceJSON.record(from: bytes, revision: 7)
                if let canonical {
                    fast += 1
                    #expect(canonical == strict)
                }
                #expect(PresenceJSON.decodeValue(bytes, revision: 7) == strict)
                #expect(UserPresenceJSON.decodeValue(bytes, revision: 7) == UserPresenceJSON.decodeValueStrictly(bytes, revision: 7))
                // The stored form read from a value, body included, is what encoding the record gives.
                let reference = UserPresenceJSON.decodeValueStrictly(bytes, revision: 7).map { StoredPresence($0, encodedValue: bytes) }
                #expect(StoredPresence(decoding: bytes, revision: 7) == reference)
            }
        }
        // Escaped messages (quote, backslash, tab) go the general way; every other one the fast way.
        let escaped = Self.records.filter { $0.message.contains { "\"\\\t".contains($0) } }.count
        #expect(fast == (Self.records.count - escaped) * 2)
    }

    /// A replica keeps one body per user: an array that grew past its reserve (and doubled)
    /// would hold up to twice its size for as long as the node runs. The capacity is what
    /// malloc gave, not what was asked: glibc may hand out a free chunk up to 31 bytes larger
    /// than the request (a remainder too small to split), so the bound leaves 96 bytes, still
    /// far from the doubling it catches (a 362-byte body in an array of 744). At +64 it failed
    /// once in a full parallel run (199 bytes in 264).
    @Test func storedBodiesHoldLittleMoreThanTheirBytes() throws {
        for original in Self.records {
            let value = PresenceJSON.encodeValue(original)
            let fromValue = try #require(StoredPresence(decoding: value, revision: 9)).responseBody
            let encoded = StoredPresence(UserPresence(single: original)).responseBody
            for (name, body) in [("from the value", fromValue), ("encoded", encoded), ("value", value)] {
                #expect(body.capacity <= body.count + 96, "\(name): \(body.count) bytes in an array of \(body.capacity)")
            }
        }
    }

    @Test func anythingButTheExactLayoutIsLeftToTheGeneralReader() throws {
        let value = String(decoding: PresenceJSON.encodeValue(record("alice", status: .online, revision: 3)), as: UTF8.self)
        let variants = [
            value.replacingFirst(#""status":"#, with: #" "status" : "#),  // white space
            value.replacingFirst(#"{"user_id":"alice","#, with: #"{"#).replacingFirst("}", with: #","user_id":"alice"}"#),  // order
            value.replacingFirst("alice", with: #"\u0061lice"#),  // an escape
            value + " ",  // trailing white space
            value.replacingFirst(#","ttl":"#, with: #","extra":1,"ttl":"#),  // a field more
            value.replacingFirst(#""ttl":10"#, with: #""ttl":010"#),  // a leading zero
            value.replacingFirst(#""node_id":"node-1""#, with: #""node_id":null"#),  // null
        ]
        for variant in variants {
            let bytes = Array(variant.utf8)
            #expect(CanonicalPresenceJSON.record(from: bytes, revision: 3) == nil, "\(variant)")
            #expect(PresenceJSON.decodeValue(bytes, revision: 3) == PresenceJSON.decodeValueStrictly(bytes, revision: 3))
        }
    }

    /// A raw DEL (which the encoder escapes, but another writer may not) is readable, and the
    /// body is still what encoding the record gives, not the value's raw bytes.
    @Test func aRawDeleteCharacterIsLeftToTheGeneralReader() throws {
        let value = String(decoding: PresenceJSON.encodeValue(record("alice", status: .online, revision: 3)), as: UTF8.self)
        let bytes = Array(value.replacingFirst("hello", with: "hel\u{7F}lo").utf8)
        #expect(CanonicalPresenceJSON.record(from: bytes, revision: 3) == nil)
        let stored = try #require(StoredPresence(decoding: bytes, revision: 3))
        let strict = try #require(UserPresenceJSON.decodeValueStrictly(bytes, revision: 3))
        #expect(stored.responseBody == PresenceJSON.encodeResponse(strict.publicView(at: strict.lastWritten)))
        #expect(String(decoding: stored.responseBody, as: UTF8.self).contains(#"hel\u007flo"#))
    }

    @Test func whatTheGeneralReaderRefusesTheFastOneRefusesToo() {
        let value = String(decoding: PresenceJSON.encodeValue(record("alice", status: .online, revision: 3)), as: UTF8.self)
        let bad: [[UInt8]] = [
            Array(value.replacingFirst(#""online""#, with: #""asleep""#).utf8),  // unknown status
            Array(value.replacingFirst(#""alice""#, with: #""has space""#).utf8),  // invalid user id
            Array(value.replacingFirst(#""ttl":10"#, with: #""ttl":2147483648"#).utf8),  // ttl past 2³¹−1
            Array(value.replacingFirst(".000Z", with: "Z").utf8),  // another timestamp form
            Array(value.utf8.dropLast()),  // cut short
            Array(value.utf8).map { $0 == UInt8(ascii: "h") ? 0xFF : $0 },  // invalid UTF-8 (in "hello")
            Array(value.replacingFirst("alice", with: "ali\u{01}ce").utf8),  // a control character
        ]
        for bytes in bad {
            #expect(CanonicalPresenceJSON.record(from: bytes, revision: 3) == nil)
            #expect(PresenceJSON.decodeValue(bytes, revision: 3) == nil)
        }
    }
}

extension String {
    fileprivate func repeated(_ count: Int) -> String { String(repeating: self, count: count) }

    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
