import PresenceNode
import Testing

/// How many HTTP connections a node may hold: what the open-file limit leaves after the
/// node's own reserve, whatever `service.http.max_connections` asks for.
struct ConnectionBudgetTests {
    @Test func automaticLeavesTheReserveOfTheFileLimit() {
        #expect(ConnectionBudget(configured: 0, fileLimit: 1_024, cores: 2).maxConnections == 1_024 - 70)
        #expect(ConnectionBudget(configured: 0, fileLimit: 256, cores: 2).maxConnections == 186)
        #expect(ConnectionBudget(configured: 0, fileLimit: 256, cores: 2).reducedFrom == nil)
        #expect(ConnectionBudget(configured: 0, fileLimit: nil, cores: 2).maxConnections == 1_000_000)
    }

    @Test func theReserveGrowsWithTheCores() {
        #expect(ConnectionBudget(configured: 0, fileLimit: 10_000, cores: 32).maxConnections == 10_000 - 64 - 96)
    }

    @Test func aTinyLimitKeepsHalfForTheNode() {
        #expect(ConnectionBudget(configured: 0, fileLimit: 100, cores: 2).maxConnections == 50)
        #expect(ConnectionBudget(configured: 0, fileLimit: 1, cores: 2).maxConnections == 1)
    }

    @Test func aConfiguredMaximumIsKeptWhenTheLimitAllowsItAndReducedWhenNot() {
        #expect(ConnectionBudget(configured: 500, fileLimit: 1_024, cores: 2) == ConnectionBudget(configured: 500, fileLimit: 100_000, cores: 2))
        #expect(ConnectionBudget(configured: 500, fileLimit: 1_024, cores: 2).maxConnections == 500)
        let reduced = ConnectionBudget(configured: 5_000, fileLimit: 1_024, cores: 2)
        #expect(reduced.maxConnections == 954)
        #expect(reduced.reducedFrom == 5_000)
        #expect(ConnectionBudget(configured: 5_000, fileLimit: nil, cores: 2).maxConnections == 5_000)
    }

    @Test func streamsGetThreeQuartersOfTheConnections() {
        #expect(ConnectionBudget(configured: 0, fileLimit: 256, cores: 2).streamShare == 140)
        #expect(ConnectionBudget(configured: 400, fileLimit: nil, cores: 2).streamShare == 300)
        #expect(ConnectionBudget(configured: 1, fileLimit: nil, cores: 2).streamShare == 1)
    }
}
