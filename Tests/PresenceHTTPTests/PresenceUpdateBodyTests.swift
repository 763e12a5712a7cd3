import PresenceCore
import PresenceTestSupport
import Testing

@testable import PresenceHTTP

@Suite("PresenceUpdateBody (PUT body)")
struct PresenceUpdateBodyTests {
    let t0 = Timestamp(millisecondsSinceEpoch: 1_795_255_200_000)

    func parse(_ json: String, defaultTTL: Int = 300) throws -> PresenceUpdateBody {
        try PresenceUpdateBody(json: bytes(json), defaultTTL: defaultTTL, now: t0)
    }

    func code(_ json: String) -> PresenceError.Code? {
        errorCode { _ = try parse(json) }
    }

    @Test func fullBody() throws {
        let body = try parse(#"{"status":"busy","message":"In a meeting","ttl":600}"#)
        #expect(body.status == .busy)
        #expect(body.message == "In a meeting")
        #expect(body.ttl == 600)
    }

    @Test("every status", arguments: PresenceStatus.allCases)
    func statuses(status: PresenceStatus) throws {
        #expect(try parse(#"{"status":"\#(status.rawValue)"}"#).status == status)
    }

    @Test("status is required and must be a known string", arguments: [
        #"{}"#, #"{"status":null}"#, #"{"message":"hi"}"#, #"{"status":""}"#, #"{"status":"ONLINE"}"#,
        #"{"status":"Online"}"#, #"{"status":" online"}"#, #"{"status":"hidden"}"#, #"{"status":1}"#,
        #"{"status":true}"#, #"{"status":["online"]}"#, #"{"status":{"value":"online"}}"#,
    ])
    func invalidStatus(json: String) {
        #expect(code(json) == .invalidStatus)
    }

    @Test func deviceIsAtMost32CharactersWithoutControlCharacters() throws {
        let longest = String(repeating: "é", count: 32)
        #expect(try parse(#"{"status":"online","device":"\#(longest)"}"#).device == longest)
        #expect(try parse(#"{"status":"online"}"#).device == nil, "absent keeps the session's label")
        for bad in [#""\#(longest)x""#, #""a\u0007b""#, "42", "[]"] {
            #expect(code(#"{"status":"online","device":\#(bad)}"#) == .badRequest, "\(bad)")
        }
    }

    @Test func messageDefaultsToEmpty() throws {
        #expect(try parse(#"{"status":"online"}"#).message == "")
        #expect(try parse(#"{"status":"online","message":null}"#).message == "")
        #expect(try parse(#"{"status":"online","message":""}"#).message == "")
    }

    @Test func messageIsKeptVerbatim() throws {
        #expect(try parse(#"{"status":"online","message":"caf\u00e9 \"quoted\" \\ 😀"}"#).message == #"café "quoted" \ 😀"#)
    }

    @Test func messageRules() throws {
        let longest = String(repeating: "a", count: 256)
        #expect(try parse(#"{"status":"online","message":"\#(longest)"}"#).message == longest)
        #expect(code(#"{"status":"online","message":"\#(longest)a"}"#) == .invalidMessage)
        #expect(code(#"{"status":"online","message":"line\nbreak"}"#) == .invalidMessage)
        #expect(code(#"{"status":"online","message":"tab\there"}"#) == .invalidMessage)
        #expect(code(#"{"status":"online","message":"del\u007f"}"#) == .invalidMessage)
        #expect(code(#"{"status":"online","message":"c1\u0085"}"#) == .invalidMessage)
        #expect(code(#"{"status":"online","message":"nul\u0000"}"#) == .invalidMessage)
        #expect(code(#"{"status":"online","message":42}"#) == .invalidMessage)
        #expect(code(#"{"status":"online","message":["hi"]}"#) == .invalidMessage)
        #expect(code(#"{"status":"online","message":false}"#) == .invalidMessage)
    }

    @Test func ttlDefaultsToTheConfiguredValue() throws {
        #expect(try parse(#"{"status":"online"}"#).ttl == 300)
        #expect(try parse(#"{"status":"online"}"#, defaultTTL: 120).ttl == 120)
        #expect(try parse(#"{"status":"online","ttl":null}"#, defaultTTL: 45).ttl == 45)
    }

    /// Only exact integers are valid: `10.0` and `1e1` are ten; `9.99999999999999999` is not,
    /// although it rounds to 10.0 as a Double.
    @Test func ttlMustBeAnExactInteger() throws {
        #expect(try parse(#"{"status":"online","ttl":10.0}"#).ttl == 10)
        #expect(try parse(#"{"status":"online","ttl":1e1}"#).ttl == 10)
        #expect(try parse(#"{"status":"online","ttl":300.000}"#).ttl == 300)
        #expect(try parse(#"{"status":"online","ttl":0.3e3}"#).ttl == 300)
        for ttl in ["9.99999999999999999", "10.000000000000000001", "30.5", "3e-1", "1e400", "86400.5"] {
            #expect(code(#"{"status":"online","ttl":\#(ttl)}"#) == .invalidTTL, "\(ttl)")
        }
    }

    @Test func ttlBounds() throws {
        #expect(try parse(#"{"status":"online","ttl":10}"#).ttl == 10)
        #expect(try parse(#"{"status":"online","ttl":86400}"#).ttl == 86_400)
        #expect(code(#"{"status":"online","ttl":9}"#) == .invalidTTL)
        #expect(code(#"{"status":"online","ttl":86401}"#) == .invalidTTL)
        #expect(code(#"{"status":"online","ttl":0}"#) == .invalidTTL)
        #expect(code(#"{"status":"online","ttl":-300}"#) == .invalidTTL)
    }

    @Test("ttl must be an integer", arguments: [
        "10.5", "299.9", "0.5", #""300""#, "true", "false", "[300]", #"{"seconds":300}"#, "1e20",
        "99999999999999999999", "-99999999999999999999", "1.7976931348623157e308",
    ])
    func nonIntegerTTL(ttl: String) {
        #expect(code(#"{"status":"online","ttl":\#(ttl)}"#) == .invalidTTL)
    }

    @Test("the body must be a JSON object", arguments: [
        "", " ", "null", "[]", #"["status","online"]"#, #""online""#, "42", "true", "{", #"{"status":"online""#,
        "status=online", #"{"status":"online"}}"#, "\u{FEFF}",
    ])
    func nonObjectBodies(json: String) {
        #expect(code(json) == .badRequest)
    }

    @Test func unknownFieldsAreIgnored() throws {
        let body = try parse(
            #"{"status":"away","user_id":"mallory","revision":99,"last_seen":"x","extra":{"a":[1,2]},"ttl":60}"#)
        #expect(body.status == .away)
        #expect(body.message == "")
        #expect(body.ttl == 60)
    }

    @Test func statusIsCheckedBeforeTheOtherFields() {
        #expect(code(#"{"status":"nope","message":"\n","ttl":1}"#) == .invalidStatus)
        #expect(code(#"{"status":"online","message":"\n","ttl":1}"#) == .invalidMessage)
    }

    @Test func aPutBodyWithATrailingCommaIsABadRequest() {
        #expect(throws: Never.self) { _ = try PresenceUpdateBody(json: Array(#"{"status":"online"}"#.utf8), defaultTTL: 300, now: t0) }
        do {
            _ = try PresenceUpdateBody(json: Array(#"{"status":"online",}"#.utf8), defaultTTL: 300, now: t0)
            Issue.record("a trailing comma must be refused")
        } catch {
            #expect(error.code == .badRequest)
        }
    }
}
