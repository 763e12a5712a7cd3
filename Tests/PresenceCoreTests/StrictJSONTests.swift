import Testing

@testable import PresenceCore

/// Whether the strict parser takes `bytes` as exactly one JSON value.
private func isValid(_ bytes: [UInt8]) -> Bool { StrictJSON.parse(bytes) != nil }

struct StrictJSONTests {
    @Test(arguments: [
        #"{}"#, #"[]"#, #" {"a": [1, -2.5e3, 0, 0.5, true, false, null, "x\"y\\u00e9"]} "#, #""plain""#, "0", "-0.0E+1",
        #"{"status":"online","message":"héllo","ttl":300}"#,
    ])
    func acceptsValidJSON(_ text: String) {
        #expect(isValid(Array(text.utf8)))
    }

    @Test(arguments: [
        #"{"status":"online",}"#, #"{"user_ids":["a",],}"#, #"{"status":"online","status":"bogus"}"#, #"[1,]"#,
        #"{"a":1}x"#, #"{"a":01}"#, #"{"a":NaN}"#, #"{"a":.5}"#, #"{"a":1.}"#, #"// c"# + "\n{}", #"{'a':1}"#,
        #"{"a":"\x"}"#, "{\"a\":\"raw\ncontrol\"}", #"{"a" 1}"#, #"{"a":tru}"#, "", "   ", #"{"a":"\u12"}"#,
        String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
    ])
    func refusesInvalidJSON(_ text: String) {
        #expect(!isValid(Array(text.utf8)))
    }

    @Test func valuesAreParsed() {
        let text = #"{"s":"a\"b\u00e9\ud83d\ude00","i":-42,"z":0,"d":2.5,"e":1e3,"t":true,"f":false,"n":null,"a":[1,[]],"o":{}}"#
        #expect(
            JSONValue.parse(Array(text.utf8))
                == .object([
                    "s": .string("a\"bé😀"), "i": .integer(-42), "z": .integer(0), "d": .number(2.5), "e": .integer(1000),
                    "t": .bool(true), "f": .bool(false), "n": .null, "a": .array([.integer(1), .array([])]), "o": .object([:]),
                ]))
        // Integers too large for Int are numbers.
        #expect(JSONValue.parse(Array("123456789012345678901234567890".utf8)) == .number(1.2345678901234568e29))
    }

    @Test func loneSurrogatesAreRefused() {
        #expect(JSONValue.parse(Array(#""\ud800""#.utf8)) == nil)
        #expect(JSONValue.parse(Array(#""\udc00x""#.utf8)) == nil)
        #expect(JSONValue.parse(Array(#""\ud800\u0041""#.utf8)) == nil)
        #expect(JSONValue.parse(Array(#""\ud83d\ude00""#.utf8)) == .string("😀"))
    }

    @Test func invalidUTF8IsRefused() {
        #expect(JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) == nil)
        #expect(JSONValue.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22]) == nil)
        #expect(JSONValue.parse([0x22, 0xC3, 0xA9, 0x22]) == .string("é"))
    }

    @Test func objectFromAcceptsOnlyObjects() {
        #expect(JSONValue.object(from: Array(#"{"a":1}"#.utf8)) == ["a": .integer(1)])
        #expect(JSONValue.object(from: Array("[1]".utf8)) == nil)
        #expect(JSONValue.object(from: Array("{".utf8)) == nil)
    }
}

struct StrictJSONEscapedKeyTests {
    @Test func keysRepeatedThroughEscapesAreRefused() {
        #expect(!isValid(Array(#"{"status":"online","st\u0061tus":"away"}"#.utf8)))
        #expect(!isValid(Array(#"{"a\n":1,"a\u000a":2}"#.utf8)))
        #expect(!isValid(Array(#"{"\ud83d\ude00":1,"😀":2}"#.utf8)))
        #expect(isValid(Array(#"{"a":1,"b":2,"\u0063":3}"#.utf8)))
    }
}

/// Which number literals denote an integer exactly.
struct ExactIntegerTests {
    @Test func integersWrittenWithAFractionOrAnExponent() {
        let cases: [(String, Int?)] = [
            ("10.0", 10), ("1e1", 10), ("1E+1", 10), ("0.3e3", 300), ("100e-2", 1), ("-2.50e1", -25), ("0.0", 0),
            ("0e999", 0), ("9.99999999999999999", nil), ("1.5", nil), ("15e-1", nil), ("5e-3", nil),
            ("1e19", nil), ("9.223372036854775807e18", Int.max), ("1e1000", nil),
        ]
        for (text, expected) in cases {
            #expect(StrictJSON.exactInteger(text) == expected, "\(text)")
        }
    }
}
