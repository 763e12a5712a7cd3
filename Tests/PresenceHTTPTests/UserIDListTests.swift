import PresenceCore
import PresenceTestSupport
import Testing

@testable import PresenceHTTP

@Suite("UserIDList and BatchRequestBody")
struct UserIDListTests {
    static func ids(_ count: Int, prefix: String = "user") -> [String] { (0..<count).map { "\(prefix)\($0)" } }

    static func batchJSON(_ ids: [String]) -> String {
        #"{"user_ids":["# + ids.map { "\"\($0)\"" }.joined(separator: ",") + "]}"
    }

    // MARK: validate

    @Test func duplicatesCollapseInOrder() throws {
        let result = try UserIDList.validate(["b", "a", "b", "c", "a", "b"], limit: 100)
        #expect(result.map(\.rawValue) == ["b", "a", "c"])
    }

    @Test func queryLimitCountsDistinctIDs() throws {
        let limit = PresenceLimits.maxUsersPerQuery
        #expect(try UserIDList.validate(Self.ids(100), limit: limit).count == 100)
        #expect(errorCode { _ = try UserIDList.validate(Self.ids(101), limit: limit) } == .tooManyUsers)
        // 150 entries but only 100 distinct ids are fine.
        let repeated = Self.ids(100) + Self.ids(50)
        #expect(try UserIDList.validate(repeated, limit: limit).map(\.rawValue) == Self.ids(100))
    }

    @Test func batchLimitCountsDistinctIDs() throws {
        let limit = PresenceLimits.maxUsersPerBatch
        #expect(try UserIDList.validate(Self.ids(1000), limit: limit).count == 1000)
        #expect(errorCode { _ = try UserIDList.validate(Self.ids(1001), limit: limit) } == .tooManyUsers)
        #expect(try UserIDList.validate(Self.ids(1000) + Self.ids(1000), limit: limit).count == 1000)
    }

    @Test func emptyListIsABadRequest() {
        #expect(errorCode { _ = try UserIDList.validate([], limit: 100) } == .badRequest)
    }

    @Test("one invalid id rejects the list", arguments: ["", "a b", "a/b", "a,b", "😀", String(repeating: "x", count: 129)])
    func invalidID(bad: String) {
        #expect(errorCode { _ = try UserIDList.validate(["alice", bad, "bob"], limit: 100) } == .invalidUserID)
        #expect(errorCode { _ = try UserIDList.validate([bad], limit: 100) } == .invalidUserID)
    }

    @Test func lettersAndPunctuationAreAccepted() throws {
        let result = try UserIDList.validate(["alice@example.com", "a+b", "x:y", "josé"], limit: 100)
        #expect(result.map(\.rawValue) == ["alice@example.com", "a+b", "x:y", "josé"])
    }

    // MARK: query form

    @Test func queryForm() throws {
        #expect(try UserIDList.fromQuery("users=a,b,c", limit: 100).map(\.rawValue) == ["a", "b", "c"])
        #expect(try UserIDList.fromQuery("users=c,a,c,b,a", limit: 100).map(\.rawValue) == ["c", "a", "b"])
        #expect(try UserIDList.fromQuery("x=1&users=bob&y=2", limit: 100).map(\.rawValue) == ["bob"])
        #expect(try UserIDList.fromQuery("users=a+b,alice%40example.com", limit: 100).map(\.rawValue) == ["a+b", "alice@example.com"])
        #expect(try UserIDList.fromQuery("users=jos%C3%A9", limit: 100).map(\.rawValue) == ["josé"])
    }

    @Test func queryFormErrors() {
        #expect(errorCode { _ = try UserIDList.fromQuery(nil, limit: 100) } == .badRequest)
        #expect(errorCode { _ = try UserIDList.fromQuery("", limit: 100) } == .badRequest)
        #expect(errorCode { _ = try UserIDList.fromQuery("user=a", limit: 100) } == .badRequest)
        #expect(errorCode { _ = try UserIDList.fromQuery("users=", limit: 100) } == .badRequest)
        #expect(errorCode { _ = try UserIDList.fromQuery("users", limit: 100) } == .badRequest)
        #expect(errorCode { _ = try UserIDList.fromQuery("users=a,,b", limit: 100) } == .invalidUserID)
        #expect(errorCode { _ = try UserIDList.fromQuery("users=a,", limit: 100) } == .invalidUserID)
        #expect(errorCode { _ = try UserIDList.fromQuery("users=a%20b", limit: 100) } == .invalidUserID)
        #expect(errorCode { _ = try UserIDList.fromQuery("users=a%2Fb", limit: 100) } == .invalidUserID)
        let many = "users=" + Self.ids(101).joined(separator: ",")
        #expect(errorCode { _ = try UserIDList.fromQuery(many, limit: 100) } == .tooManyUsers)
        let hundred = "users=" + (Self.ids(100) + Self.ids(100)).joined(separator: ",")
        #expect(errorCode { _ = try UserIDList.fromQuery(hundred, limit: 100) } == nil)
    }

    // MARK: batch body

    @Test func batchBody() throws {
        let body = try BatchRequestBody(json: bytes(#"{"user_ids":["b","a","b","alice@example.com"],"extra":1}"#))
        #expect(body.userIDs.map(\.rawValue) == ["b", "a", "alice@example.com"])
    }

    @Test func batchBodyLimits() throws {
        #expect(try BatchRequestBody(json: bytes(Self.batchJSON(Self.ids(1000)))).userIDs.count == 1000)
        #expect(errorCode { _ = try BatchRequestBody(json: bytes(Self.batchJSON(Self.ids(1001)))) } == .tooManyUsers)
        let repeated = Self.batchJSON(Self.ids(1000) + Self.ids(500))
        #expect(try BatchRequestBody(json: bytes(repeated)).userIDs.count == 1000)
    }

    @Test("batch body errors", arguments: [
        (#"{"user_ids":[]}"#, PresenceError.Code.badRequest),
        (#"{}"#, .badRequest),
        (#"{"user_ids":null}"#, .badRequest),
        (#"{"user_ids":"alice"}"#, .badRequest),
        (#"{"users":["alice"]}"#, .badRequest),
        (#"["alice"]"#, .badRequest),
        ("", .badRequest),
        ("not json", .badRequest),
        (#"{"user_ids":[1]}"#, .invalidUserID),
        (#"{"user_ids":["alice",null]}"#, .invalidUserID),
        (#"{"user_ids":["alice",["bob"]]}"#, .invalidUserID),
        (#"{"user_ids":["alice","bad id"]}"#, .invalidUserID),
        (#"{"user_ids":[""]}"#, .invalidUserID),
    ])
    func batchBodyErrors(json: String, expected: PresenceError.Code) {
        #expect(errorCode { _ = try BatchRequestBody(json: bytes(json)) } == expected)
    }
}
