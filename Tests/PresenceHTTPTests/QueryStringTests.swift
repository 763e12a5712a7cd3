import Testing

@testable import PresenceHTTP

@Suite("QueryString")
struct QueryStringTests {
    @Test func plusStaysAPlus() {
        #expect(QueryString.value(of: "users", in: "users=a+b") == "a+b")
        #expect(QueryString.value(of: "users", in: "users=%2B") == "+")
        #expect(QueryString.value(of: "users", in: "users=a%2Bb+c") == "a+b+c")
    }

    @Test func percentDecoding() {
        #expect(QueryString.value(of: "users", in: "users=alice%40example.com") == "alice@example.com")
        #expect(QueryString.value(of: "users", in: "users=a%3Ab%3Dc") == "a:b=c")
        #expect(QueryString.value(of: "users", in: "users=jos%C3%A9") == "josé")
        #expect(QueryString.value(of: "users", in: "users=a%20b") == "a b")
        #expect(QueryString.value(of: "users", in: "users=a%2Cb,c") == "a,b,c")
    }

    @Test func valuesMayContainEquals() {
        #expect(QueryString.value(of: "users", in: "users=a=b,c==") == "a=b,c==")
    }

    @Test func invalidPercentEncodingIsKeptRaw() {
        #expect(QueryString.value(of: "users", in: "users=100%") == "100%")
        #expect(QueryString.value(of: "users", in: "users=%zz") == "%zz")
    }

    @Test func lookup() {
        #expect(QueryString.value(of: "users", in: nil) == nil)
        #expect(QueryString.value(of: "users", in: "") == nil)
        #expect(QueryString.value(of: "users", in: "user=a") == nil)
        #expect(QueryString.value(of: "users", in: "Users=a") == nil)
        #expect(QueryString.value(of: "users", in: "xusers=a") == nil)
        #expect(QueryString.value(of: "users", in: "users") == "")
        #expect(QueryString.value(of: "users", in: "users=") == "")
        #expect(QueryString.value(of: "users", in: "a=1&users=bob&b=2") == "bob")
        #expect(QueryString.value(of: "users", in: "users=first&users=second") == "first")
        #expect(QueryString.value(of: "users", in: "&&users=bob&") == "bob")
        #expect(QueryString.value(of: "users", in: "us%65rs=bob") == "bob")
    }
}
