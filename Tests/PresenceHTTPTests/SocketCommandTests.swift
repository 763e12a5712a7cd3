import PresenceCore
import Testing

@testable import PresenceHTTP

/// The frames a connected client sends (SPEC §3b), validated by the REST API's rules.
@Suite("Socket commands")
struct SocketCommandTests {
    let t0 = Timestamp(millisecondsSinceEpoch: 1_795_255_200_000)

    func parse(_ json: String, maxUsers: Int = 1_000) -> SocketCommand.Parsed {
        SocketCommand.parse(Array(json.utf8), ttl: 60, maxUsers: maxUsers, now: t0)
    }

    func error(_ json: String, maxUsers: Int = 1_000) -> PresenceError? {
        if case .failure(let error) = parse(json, maxUsers: maxUsers).command { return error }
        return nil
    }

    @Test func theIDIsEchoedAsTheClientWroteItWhenItIsAStringOrANumber() {
        #expect(parse(#"{"id":1,"type":"subscribe","users":["a"]}"#).id == Array("1".utf8))
        #expect(parse(#"{"id":"x\"y","type":"subscribe","users":["a"]}"#).id == Array(#""x\"y""#.utf8))
        #expect(parse(#"{"type":"subscribe","users":["a"]}"#).id == nil)
        #expect(parse(#"{"id":{"a":1},"type":"subscribe","users":["a"]}"#).id == nil)
        #expect(error(#"{"id":[1],"type":"subscribe","users":["a"]}"#)?.code == .badRequest)
        #expect(error(#"{"id":3,"type":"bogus"}"#)?.code == .badRequest)
        #expect(parse(#"{"id":3,"type":"bogus"}"#).id == Array("3".utf8), "a refusal still names the command")
    }

    @Test func helloDefaultsToOnlineAndSaysWhetherItNamedAStatus() throws {
        guard case .success(.hello(let hello)) = parse(#"{"type":"hello","token":"t","session":"web-1","device":"Firefox"}"#).command
        else {
            Issue.record("not a hello")
            return
        }
        #expect(hello.token == "t" && hello.session?.rawValue == "web-1" && hello.update.device == "Firefox")
        #expect(hello.update.status == .online && !hello.namesStatus)
        guard case .success(.hello(let busy)) = parse(#"{"type":"hello","status":"busy","ttl":99999999}"#).command else {
            Issue.record("not a hello")
            return
        }
        #expect(busy.namesStatus && busy.update.status == .busy && busy.update.ttl == 60, "the client does not set ttl")
        #expect(error(#"{"type":"hello","session":"bad id"}"#)?.code == .invalidSessionID)
        #expect(error(#"{"type":"hello","status":"asleep"}"#)?.code == .invalidStatus)
        #expect(error(#"{"type":"hello","token":5}"#)?.code == .unauthorized)
    }

    @Test func setUsesThePUTRules() {
        guard case .success(.set(let update)) = parse(#"{"type":"set","status":"away","message":"lunch","device":"x"}"#).command
        else {
            Issue.record("not a set")
            return
        }
        #expect(update.status == .away && update.message == "lunch" && update.device == nil)
        #expect(error(#"{"type":"set","message":"no status"}"#)?.code == .invalidStatus)
        #expect(error(#"{"type":"set","status":"busy","message_expires_at":"2000-01-01T00:00:00Z"}"#)?.code == .invalidMessage)
        #expect(error(#"{"type":"set","status":"busy","message":"\#(String(repeating: "m", count: 300))"}"#)?.code == .invalidMessage)
    }

    @Test func subscribeListsAreValidatedDeduplicatedAndBounded() {
        guard case .success(.subscribe(let users)) = parse(#"{"type":"subscribe","users":["b","a","b"]}"#).command else {
            Issue.record("not a subscribe")
            return
        }
        #expect(users.map(\.rawValue) == ["b", "a"])
        #expect(error(#"{"type":"subscribe","users":[]}"#)?.code == .badRequest)
        #expect(error(#"{"type":"subscribe","users":"a"}"#)?.code == .badRequest)
        #expect(error(#"{"type":"unsubscribe","users":[1]}"#)?.code == .invalidUserID)
        #expect(error(#"{"type":"subscribe","users":["a","b","c"]}"#, maxUsers: 2)?.code == .tooManyUsers)
        #expect(error("[1,2]")?.code == .badRequest)
        #expect(error("not json")?.code == .badRequest)
    }
}
