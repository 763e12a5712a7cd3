import Testing

@testable import PresenceHTTP

/// Percent-decoding keeps every byte (user ids are byte-exact).
struct PercentDecodingTests {
    @Test func decodesEveryEscapeAndKeepsAByteOrderMark() {
        #expect(PercentDecoding.decode("%EF%BB%BFbob") == "\u{FEFF}bob")
        #expect(PercentDecoding.decode("%EF%BB%BFbob")?.unicodeScalars.count == 4)
        #expect(PercentDecoding.decode("jos%C3%A9") == "josé")
        #expect(PercentDecoding.decode("a%2bb%2Bc") == "a+b+c")
        #expect(PercentDecoding.decode("plain+text") == "plain+text")
    }

    @Test func malformedEscapesAndBytesThatAreNotUTF8AreRefused() {
        for text in ["%", "%2", "%zz", "a%g1", "%FF", "%C3", "%ED%A0%80"] {
            #expect(PercentDecoding.decode(text) == nil, "\(text)")
        }
    }
}
