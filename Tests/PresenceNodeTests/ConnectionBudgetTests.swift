import PresenceNode
import Testing

/// How many HTTP connections a node may hold: what the open-file limit leaves after the
/// node's own reserve, whatever `service.http.max_connections` asks for.
struct ConnectionBudgetTests {
    @Test func automaticLeavesTheReserveOfTheFileLimit() {
        #expect(ConnectionBudget(configured: 0, fileLimit: 1_024).maxConnections == 1_024 - ConnectionBudget.reserve)
        #expect(ConnectionBudget(configured: 0, fileLimit: 256).maxConnections == 192)
        #expect(ConnectionBudget(configured: 0, fileLimit: 256).reducedFrom == nil)
        #expect(ConnectionBudget(configured: 0, fileLimit: nil).maxConnections == 1_000_000)
    }

    @Test func aTinyLimitKeepsHalfForTheNode() {
        #expect(ConnectionBudget(configured: 0, fileLimit: 100).maxConnections == 50)
        #expect(ConnectionBudget(configured: 0, fileLimit: 1).maxConnections == 1)
    }

    @Test func aConfiguredMaximumIsKeptWhenTheLimitAllowsItAndReducedWhenNot() {
        #expect(ConnectionBudget(configured: 500, fileLimit: 1_024) == ConnectionBudget(configured: 500, fileLimit: 100_000))
        #expect(ConnectionBudget(configured: 500, fileLimit: 1_024).maxConnections == 500)
        let reduced = ConnectionBudget(configured: 5_000, fileLimit: 1_024)
        #expect(reduced.maxConnections == 960)
        #expect(reduced.reducedFrom == 5_000)
        #expect(ConnectionBudget(configured: 5_000, fileLimit: nil).maxConnections == 5_000)
    }
}
