import Foundation
import Testing

@testable import PresenceCore

/// The one JSON string escaper: exact output for each class of character, and a round trip
/// through a standard parser for any text.
struct JSONStringTests {
    @Test("each class of character has its escape", arguments: [
        ("", #""""#),
        ("plain", #""plain""#),
        (#"say "hi""#, #""say \"hi\"""#),
        (#"a\b"#, #""a\\b""#),
        ("line\nbreak", #""line\nbreak""#),
        ("cr\r", #""cr\r""#),
        ("tab\t", #""tab\t""#),
        ("nul\u{0}", #""nul\u0000""#),
        ("esc\u{1B}unit\u{1F}", #""esc\u001bunit\u001f""#),
        ("del\u{7F}", #""del\u007f""#),
        ("josé 用户 😀", "\"josé 用户 😀\""),
        ("/</script>", #""/</script>""#),
        ("c1\u{85}", "\"c1\u{85}\""),
    ])
    func escapes(text: String, literal: String) {
        #expect(JSONString.quoted(text) == literal)
        var out = Array("x".utf8)
        JSONString.append(text, to: &out)
        #expect(out == Array("x\(literal)".utf8))
    }

    @Test func everyStringRoundTripsAndNoRawControlByteIsWritten() throws {
        var rng = SplitMix64(seed: 7)
        let alphabet: [Unicode.Scalar] = (0..<0x80).compactMap(Unicode.Scalar.init) + ["é", "用", "😀", "\u{2028}", "\u{85}"]
        for _ in 0..<500 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0..<24, using: &rng) {
                text.append(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)])
            }
            let string = String(text)
            var out = [UInt8]()
            JSONString.append(string, to: &out)
            #expect(!out.contains { $0 < 0x20 || $0 == 0x7F })
            let decoded = try JSONSerialization.jsonObject(with: Data(out), options: [.fragmentsAllowed]) as? String
            #expect(decoded == string)
        }
    }
}
