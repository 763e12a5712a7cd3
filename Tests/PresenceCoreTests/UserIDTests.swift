import PresenceTestSupport
import Testing
@testable import PresenceCore

@Suite("UserID validation")
struct UserIDTests {
    @Test("valid ids keep their raw value", arguments: [
        "a", "Z", "0", "alice", "Bob42", "alice.smith", "a_b", "a-b", "alice@example.com", "a+tag", "urn:user:1",
        "base64==", "josé", "用户1", "Ωμέγα", "\u{01C5}emal", "ʰx", "١٢٣", "x𝒜y", "auth0|123", "google-oauth2|1077",
    ])
    func validIDs(raw: String) throws {
        let id = try UserID(validating: raw)
        #expect(id.rawValue == raw)
        #expect(id.description == raw)
    }

    @Test("each allowed punctuation is accepted alone and inside an id", arguments: [".", "_", "-", "@", "+", ":", "=", "|"])
    func allowedPunctuation(char: String) throws {
        #expect(try UserID(validating: char).rawValue == char)
        #expect(try UserID(validating: "a\(char)b").rawValue == "a\(char)b")
        #expect(try UserID(validating: String(repeating: char, count: 128)).rawValue.utf8.count == 128)
    }

    @Test func emptyIsRejected() {
        #expect(errorCode { _ = try UserID(validating: "") } == .invalidUserID)
    }

    @Test func lengthBoundsInASCIIBytes() throws {
        #expect(try UserID(validating: "a").rawValue.utf8.count == 1)
        #expect(try UserID(validating: String(repeating: "a", count: 127)).rawValue.utf8.count == 127)
        #expect(try UserID(validating: String(repeating: "a", count: 128)).rawValue.utf8.count == 128)
        #expect(errorCode { _ = try UserID(validating: String(repeating: "a", count: 129)) } == .invalidUserID)
        #expect(errorCode { _ = try UserID(validating: String(repeating: "a", count: 10_000)) } == .invalidUserID)
    }

    @Test func multiByteLettersAreCountedInBytes() throws {
        // "é" (U+00E9) is 2 bytes of UTF-8.
        #expect(try UserID(validating: String(repeating: "é", count: 64)).rawValue.utf8.count == 128)
        #expect(errorCode { _ = try UserID(validating: String(repeating: "é", count: 65)) } == .invalidUserID)
        // 64 × "é" is only 64 characters, 65 × "é" only 65: well under 128 characters, so bytes are what counts.
        #expect(errorCode { _ = try UserID(validating: String(repeating: "é", count: 64) + "a") } == .invalidUserID)
        // "用" is 3 bytes: 42 × 3 + 2 = 128 ok, 43 × 3 = 129 rejected.
        #expect(try UserID(validating: String(repeating: "用", count: 42) + "ab").rawValue.utf8.count == 128)
        #expect(errorCode { _ = try UserID(validating: String(repeating: "用", count: 43)) } == .invalidUserID)
        // "𝒜" (U+1D49C, a letter outside the BMP) is 4 bytes: 32 ok, 33 rejected.
        #expect(try UserID(validating: String(repeating: "𝒜", count: 32)).rawValue.utf8.count == 128)
        #expect(errorCode { _ = try UserID(validating: String(repeating: "𝒜", count: 33)) } == .invalidUserID)
    }

    @Test("disallowed characters are rejected alone and inside an id", arguments: [
        " ", "/", "#", "%", ",", "\"", "'", "\\", "?", "&", "*", "!", "$", "(", ")", "<", ">", "[", "]", "{", "}",
        "~", "`", "^", ";",
        "\u{0}", "\u{1}", "\t", "\n", "\r", "\u{1F}", "\u{7F}", "\u{80}", "\u{85}", "\u{9F}",
        "\u{A0}", "\u{200B}", "\u{2028}", "\u{FEFF}", "\u{3000}",
        "😀", "👍🏽", "❤️", "e\u{301}", "²", "½", "€", "©", "\u{E000}",
    ])
    func rejectedCharacters(char: String) {
        #expect(errorCode { _ = try UserID(validating: char) } == .invalidUserID)
        #expect(errorCode { _ = try UserID(validating: "ab\(char)cd") } == .invalidUserID)
        #expect(errorCode { _ = try UserID(validating: "abcd\(char)") } == .invalidUserID)
    }

    @Test func validationErrorsHaveAMessage() {
        do {
            _ = try UserID(validating: "a b")
            Issue.record("an id with a space was accepted")
        } catch {
            #expect(error.code == .invalidUserID)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func equalityAndOrderFollowTheRawValue() throws {
        let a = try UserID(validating: "alice")
        let b = try UserID(validating: "bob")
        #expect(a == (try UserID(validating: "alice")))
        #expect(a != b)
        #expect(a < b)
        #expect(Set([a, b, try UserID(validating: "alice")]).count == 2)
    }
}
