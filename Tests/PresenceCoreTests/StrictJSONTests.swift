import Testing

@testable import PresenceHTTP

struct StrictJSONTests {
    @Test(arguments: [
        #"{}"#, #"[]"#, #" {"a": [1, -2.5e3, 0, 0.5, true, false, null, "x\"y\\u00e9"]} "#, #""plain""#, "0", "-0.0E+1",
        #"{"status":"online","message":"héllo","ttl":300}"#,
    ])
    func acceptsValidJSON(_ text: String) {
        #expect(StrictJSON.isValid(Array(text.utf8)))
    }

    @Test(arguments: [
        #"{"status":"online",}"#, #"{"user_ids":["a",],}"#, #"{"status":"online","status":"bogus"}"#, #"[1,]"#,
        #"{"a":1}x"#, #"{"a":01}"#, #"{"a":NaN}"#, #"{"a":.5}"#, #"{"a":1.}"#, #"// c"# + "\n{}", #"{'a':1}"#,
        #"{"a":"\x"}"#, "{\"a\":\"raw\ncontrol\"}", #"{"a" 1}"#, #"{"a":tru}"#, "", "   ", #"{"a":"\u12"}"#,
        String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
    ])
    func refusesInvalidJSON(_ text: String) {
        #expect(!StrictJSON.isValid(Array(text.utf8)))
    }

    @Test func aPutBodyWithATrailingCommaIsABadRequest() {
        #expect(throws: Never.self) { _ = try PresenceUpdateBody(json: Array(#"{"status":"online"}"#.utf8), defaultTTL: 300) }
        do {
            _ = try PresenceUpdateBody(json: Array(#"{"status":"online",}"#.utf8), defaultTTL: 300)
            Issue.record("a trailing comma must be refused")
        } catch {
            #expect(error.code == .badRequest)
        }
    }
}

struct StrictJSONEscapedKeyTests {
    @Test func keysRepeatedThroughEscapesAreRefused() {
        #expect(!StrictJSON.isValid(Array(#"{"status":"online","st\u0061tus":"away"}"#.utf8)))
        #expect(!StrictJSON.isValid(Array(#"{"a\n":1,"a\u000a":2}"#.utf8)))
        #expect(!StrictJSON.isValid(Array(#"{"\ud83d\ude00":1,"😀":2}"#.utf8)))
        #expect(StrictJSON.isValid(Array(#"{"a":1,"b":2,"\u0063":3}"#.utf8)))
    }
}
