import PresenceTestSupport
import Testing
@testable import PresenceCore

@Suite("PresenceLimits: message and TTL validation")
struct PresenceLimitsTests {
    @Test func limitsMatchTheSpec() {
        #expect(PresenceLimits.maxMessageScalars == 256)
        #expect(PresenceLimits.minTTL == 10)
        #expect(PresenceLimits.maxTTL == 86_400)
        #expect(PresenceLimits.maxUsersPerQuery == 100)
        #expect(PresenceLimits.maxUsersPerBatch == 1000)
        #expect(PresenceLimits.maxUsersPerStream == 1000)
        #expect(PresenceLimits.maxWriteBodyBytes == 4096)
        #expect(PresenceLimits.maxBatchBodyBytes == 65_536)
    }

    @Test func messageLengthInScalars() {
        #expect(errorCode { try PresenceLimits.validateMessage("") } == nil)
        #expect(errorCode { try PresenceLimits.validateMessage("In a meeting") } == nil)
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: "a", count: 256)) } == nil)
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: "a", count: 257)) } == .invalidMessage)
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: "a", count: 5000)) } == .invalidMessage)
        // Multi-byte scalars count once each: 256 × "用" is 768 bytes but 256 scalars.
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: "用", count: 256)) } == nil)
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: "用", count: 257)) } == .invalidMessage)
    }

    @Test func emojiAreCountedPerScalar() {
        // 😀 is one scalar.
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: "😀", count: 256)) } == nil)
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: "😀", count: 257)) } == .invalidMessage)
        // 👍🏽 is one character but two scalars: 128 fit, 128 plus one more scalar do not.
        let thumbs = "👍🏽"
        #expect(thumbs.count == 1 && thumbs.unicodeScalars.count == 2)
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: thumbs, count: 128)) } == nil)
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: thumbs, count: 128) + "a") } == .invalidMessage)
        // A ZWJ family is 5 scalars (ZWJ is a format character, not a control character).
        let family = "👨\u{200D}👩\u{200D}👧"
        #expect(family.count == 1 && family.unicodeScalars.count == 5)
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: family, count: 51) + "a") } == nil)
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: family, count: 52)) } == .invalidMessage)
        // A decomposed "é" is two scalars.
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: "e\u{301}", count: 128)) } == nil)
        #expect(errorCode { try PresenceLimits.validateMessage(String(repeating: "e\u{301}", count: 129)) } == .invalidMessage)
    }

    @Test("control characters are rejected anywhere", arguments: [
        "\u{0}", "\u{1}", "\t", "\n", "\u{B}", "\u{C}", "\r", "\u{1B}", "\u{1F}",  // C0
        "\u{7F}",  // DEL
        "\u{80}", "\u{85}", "\u{9B}", "\u{9F}",  // C1
        "\r\n",
    ])
    func controlCharacters(control: String) {
        #expect(errorCode { try PresenceLimits.validateMessage(control) } == .invalidMessage)
        #expect(errorCode { try PresenceLimits.validateMessage("before\(control)after") } == .invalidMessage)
        #expect(errorCode { try PresenceLimits.validateMessage("at the end\(control)") } == .invalidMessage)
    }

    @Test("printable neighbours of the control ranges are accepted", arguments: [
        " ", "~", "\u{A0}", "\u{A1}", "é", "\u{2028}", "\u{200D}", "\"quoted\" \\ back", "<b>&amp;</b>",
    ])
    func printableCharacters(text: String) {
        #expect(errorCode { try PresenceLimits.validateMessage(text) } == nil)
    }

    @Test func ttlBounds() {
        for ok in [10, 11, 300, 86_399, 86_400] {
            #expect(errorCode { try PresenceLimits.validateTTL(ok) } == nil, "ttl \(ok)")
        }
        for bad in [Int.min, -300, -1, 0, 1, 9, 86_401, 1_000_000, Int.max] {
            #expect(errorCode { try PresenceLimits.validateTTL(bad) } == .invalidTTL, "ttl \(bad)")
        }
    }
}
