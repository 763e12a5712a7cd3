import Foundation
import Testing

@testable import PresenceAuth

@Suite("ScopeClaim: RFC 6749 §3.3 scope strings")
struct ScopeClaimTests {
    private func decoded(_ json: String) throws -> ScopeClaim {
        try JSONDecoder().decode(ScopeClaim.self, from: Data(json.utf8))
    }

    @Test("scopes are separated by spaces", arguments: [
        (#""read presence:admin""#, ["read", "presence:admin"]),
        (#""  read   presence:admin ""#, ["read", "presence:admin"]),
        (#"["read", "presence:admin"]"#, ["read", "presence:admin"]),
    ])
    func spaceSeparated(json: String, values: [String]) throws {
        #expect(try decoded(json).values == values)
    }

    /// RFC 6749: scope = scope-token *( SP scope-token ), and a scope-token has no white space.
    /// A TAB, a newline or a no-break space is not a separator: such a string is one odd scope.
    @Test("other white space separates nothing", arguments: [
        #""a\tpresence:admin""#, #""a\npresence:admin""#, #""a\rpresence:admin""#, #""a\u00a0presence:admin""#,
        #""a\u2003presence:admin""#,
    ])
    func otherWhiteSpaceIsNoSeparator(json: String) throws {
        let claim = try decoded(json)
        #expect(!claim.values.contains(PresenceClaims.adminScope), "\(claim.values)")
        #expect(claim.values.count == 1)
    }
}
