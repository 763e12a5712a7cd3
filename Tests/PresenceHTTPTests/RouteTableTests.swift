import Testing

@testable import PresenceHTTP

@Suite("RouteTable: the methods of a path")
struct RouteTableTests {
    private let table = RouteTable([
        ("/api/v2/presence/:user_id", "GET"), ("/api/v2/presence/:user_id", "PUT"),
        ("/api/v2/presence/:user_id", "DELETE"), ("/api/v2/presence/:user_id/heartbeat", "POST"),
        ("/api/v2/presence/batch", "POST"), ("/api/v2/presence/batch", "PUT"), ("/health/live", "GET"),
    ])

    @Test func aParameterMatchesAnySegment() {
        #expect(table.allowedMethods(path: "/api/v2/presence/alice") == ["DELETE", "GET", "PUT"])
        #expect(table.allowedMethods(path: "/api/v2/presence/alice/heartbeat") == ["POST"])
    }

    @Test func aConstantSegmentWinsOverAParameter() {
        #expect(table.allowedMethods(path: "/api/v2/presence/batch") == ["POST", "PUT"])
    }

    @Test func unknownPathsMatchNothing() {
        #expect(table.allowedMethods(path: "/api/v2/presence") == nil)
        #expect(table.allowedMethods(path: "/api/v2/presence/alice/other") == nil)
        #expect(table.allowedMethods(path: "/health/live/more") == nil)
        #expect(table.allowedMethods(path: "/") == nil)
    }
}
