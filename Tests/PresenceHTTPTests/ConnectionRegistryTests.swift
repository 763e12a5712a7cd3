import HummingbirdCore
import NIOCore
import NIOEmbedded
import Testing

@testable import PresenceHTTP

/// Stands in for ``ConnectionGuard``, which checks its own state first (its tests): closes
/// the connection when the registry asks it to make room.
private final class MakesRoomWhenAsked: ChannelInboundHandler {
    typealias InboundIn = Never

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ConnectionRegistry.MakeRoom { context.close(promise: nil) }
    }
}

/// The connection budget's rules: below it everyone is accepted; at it, a connection that has
/// waited long enough for its client makes room for a new one, the longest-waiting first.
struct ConnectionRegistryTests {
    /// A connected channel registered as `id`'s connection, waiting since `since` (nil: busy).
    private func connection(_ registry: ConnectionRegistry, roomFrom from: NIODeadline?) async throws
        -> EmbeddedChannel
    {
        let channel = EmbeddedChannel(handler: MakesRoomWhenAsked())
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
        registry.register(ObjectIdentifier(channel), channel: channel)
        registry.update(ObjectIdentifier(channel), roomFrom: from)
        return channel
    }

    @Test func belowTheBudgetEveryConnectionIsAccepted() {
        let registry = ConnectionRegistry(budget: 2)
        var delegate = registry.delegate
        #expect(delegate.isAcceptingNewConnections())
        delegate.connectionOpened()
        #expect(delegate.isAcceptingNewConnections())
        delegate.connectionOpened()
        #expect(!delegate.isAcceptingNewConnections(), "full, and nobody waits for a client")
        #expect(registry.isFull)
        delegate.connectionClosed()
        #expect(delegate.isAcceptingNewConnections())
        #expect(registry.openConnections == 1)
    }

    @Test func atTheBudgetTheLongestWaitingConnectionMakesRoom() async throws {
        let registry = ConnectionRegistry(budget: 3)
        var delegate = registry.delegate
        let now = NIODeadline.now()
        let busy = try await connection(registry, roomFrom: nil)
        let older = try await connection(registry, roomFrom: now - .seconds(5))
        let old = try await connection(registry, roomFrom: now - .seconds(2))
        for _ in 0..<3 { delegate.connectionOpened() }
        #expect(delegate.isAcceptingNewConnections(), "a connection has waited long enough to make room")
        delegate.connectionOpened()
        #expect(!older.isActive, "the longest-waiting connection was asked to make room")
        #expect(old.isActive && busy.isActive)
        // The next one makes room with the other waiting connection; a busy one never goes.
        delegate.connectionOpened()
        #expect(!old.isActive)
        #expect(!delegate.isAcceptingNewConnections())
        delegate.connectionOpened()
        #expect(busy.isActive, "a connection answering a request is never asked to make room")
    }

    @Test func aConnectionMakesRoomOnlyFromItsTime() async throws {
        let registry = ConnectionRegistry(budget: 1)
        var delegate = registry.delegate
        let young = try await connection(registry, roomFrom: .now() + .seconds(10))
        delegate.connectionOpened()
        #expect(!delegate.isAcceptingNewConnections(), "its request may be on its way")
        delegate.connectionOpened()
        #expect(young.isActive)
        registry.update(ObjectIdentifier(young), roomFrom: .now())
        #expect(delegate.isAcceptingNewConnections())
    }

    @Test func pastTheBudgetByTheOvershootItStopsAndClosesAWaitingConnection() async throws {
        let registry = ConnectionRegistry(budget: 1)
        var delegate = registry.delegate
        _ = try await connection(registry, roomFrom: .now() + .seconds(10))
        for _ in 0..<(1 + ConnectionRegistry.overshoot) { delegate.connectionOpened() }
        let waiting = try await connection(registry, roomFrom: .now() - .seconds(1))
        #expect(!delegate.isAcceptingNewConnections(), "the connections closing to make room still hold descriptors")
        // But it closes the one that only waits now, so that the count comes down at once:
        // before, accepting stopped until a slow head's time-out (2 s under pressure) closed
        // one, and a good request waited that long in the listen backlog.
        #expect(!waiting.isActive)
        delegate.connectionClosed()
        #expect(!delegate.isAcceptingNewConnections(), "still past the budget")
    }

    @Test func aConnectionThatLeavesNoLongerCounts() async throws {
        let registry = ConnectionRegistry(budget: 1)
        var delegate = registry.delegate
        let waiting = try await connection(registry, roomFrom: .now() - .seconds(1))
        delegate.connectionOpened()
        registry.unregister(ObjectIdentifier(waiting))
        #expect(!delegate.isAcceptingNewConnections())
        delegate.connectionOpened()
        #expect(waiting.isActive, "an unregistered connection is not closed by the registry")
    }

    @Test func pressureIsThreeQuartersOfTheBudget() {
        let registry = ConnectionRegistry(budget: 4)
        var delegate = registry.delegate
        for _ in 0..<2 { delegate.connectionOpened() }
        #expect(!registry.underPressure)
        delegate.connectionOpened()
        #expect(registry.underPressure)
    }
}
