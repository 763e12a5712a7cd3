import PresenceCore
import Testing

@testable import PresenceHTTP

/// The one header trimmer: spaces and tabs only, at both ends; lists split on commas.
struct HeaderValueTests {
    @Test("trimming takes spaces and tabs at both ends only", arguments: [
        ("abc", "abc"),
        ("  abc", "abc"),
        ("abc \t", "abc"),
        ("\t a b \t", "a b"),
        ("", ""),
        (" \t ", ""),
        ("\nabc\n", "\nabc\n"),
        ("\u{A0}abc", "\u{A0}abc"),
        (" \u{301}x", "\u{301}x"),
    ])
    func trimmed(value: String, expected: String) {
        #expect(HeaderValue.trimmed(value) == expected[...])
    }

    @Test func listsSplitOnCommasAndDropEmptyElements() {
        #expect(HeaderValue.list(#""41", W/"42""#) == [#""41""#, #"W/"42""#])
        #expect(HeaderValue.list("a,\tb ,, c,") == ["a", "b", "c"])
        #expect(HeaderValue.list(" , ").isEmpty)
        #expect(HeaderValue.list("").isEmpty)
        #expect(HeaderValue.list("*") == ["*"])
    }
}
