import HummingbirdCore
import NIOConcurrencyHelpers
import NIOCore

/// The node's HTTP connections against its budget (`service.http.max_connections`), so that
/// slow or idle clients can never lock out good requests and health probes:
///
/// - below the budget, every connection is accepted;
/// - at the budget, a new connection is still accepted when some connection only waits for
///   its client (``ConnectionStateMachine/roomFrom``: a keep-alive connection between
///   requests, a request head that has begun and not ended, a new connection that has sent
///   nothing for a quarter second): the one that has waited longest is closed to make room,
///   as nginx drops idle keep-alive connections when it runs out of them. A slowloris holding
///   every slot is so pushed out by each new connection instead of making it wait in the
///   listen backlog;
/// - only when every connection is busy answering (streams have at most three quarters of the
///   budget) does the node stop accepting until one closes;
/// - ``underPressure`` (three quarters used) shortens the head time-out of new connections
///   and makes responses close their connection while the budget is full.
///
/// Connections register through their ``ConnectionGuard``; Hummingbird asks ``delegate``
/// whether to accept. Thread-safe: connections live on several event loops.
public final class ConnectionRegistry: Sendable {
    private struct Entry {
        let channel: any Channel
        /// From when it may be closed to make room (``ConnectionStateMachine/roomFrom``; nil:
        /// busy, or already being closed).
        var roomFrom: NIODeadline?
    }

    private typealias Listener = (eventLoop: any EventLoop, waker: NIOLoopBound<ListenerWaker>)

    private struct State {
        /// Accepted and not closed yet (counted by Hummingbird's accept handler).
        var open = 0
        var entries: [ObjectIdentifier: Entry] = [:]
        /// How many entries wait for their client.
        var waiting = 0
        /// Connections closed to make room, in total.
        var evicted = 0
        /// The listening channel's event loop and waker (``attach(listener:)``).
        var listener: Listener?
        /// A `read` on the listener is scheduled.
        var wakeScheduled = false
    }

    /// How many connections may be open past the budget while those closed to make room for
    /// them are closing (NIO accepts several connections per read).
    static let overshoot = 8
    /// At the budget, how often the accept handler looks again whether there is room.
    static let recheckInterval: TimeAmount = .milliseconds(100)

    /// The most connections open at once.
    public let budget: Int
    private let state = NIOLockedValueBox(State())

    /// - Parameter budget: `service.http.max_connections` as the open-file limit allows it.
    public init(budget: Int) {
        self.budget = max(1, budget)
    }

    /// What Hummingbird's accept handler asks (`availableConnectionsDelegate`).
    public var delegate: some AvailableConnectionsDelegate { Delegate(registry: self) }

    /// Connections open now.
    public var openConnections: Int { state.withLockedValue { $0.open } }

    /// Connections closed so far to make room for new ones.
    public var evictedConnections: Int { state.withLockedValue { $0.evicted } }

    /// Three quarters of the budget are used: slow heads get less time, and while the budget
    /// is full responses close their connection.
    public var underPressure: Bool { state.withLockedValue { $0.open * 4 >= budget * 3 } }

    /// Every connection of the budget is open.
    var isFull: Bool { state.withLockedValue { $0.open >= budget } }

    // MARK: Connections

    /// A connection's guard was added to its pipeline.
    func register(_ id: ObjectIdentifier, channel: any Channel) {
        state.withLockedValue { $0.entries[id] = Entry(channel: channel, roomFrom: nil) }
    }

    /// A connection's guard left its pipeline (the connection closed).
    func unregister(_ id: ObjectIdentifier) {
        state.withLockedValue { state in
            if state.entries.removeValue(forKey: id)?.roomFrom != nil { state.waiting -= 1 }
        }
    }

    /// From when the connection may be closed to make room (nil: not at all now).
    func update(_ id: ObjectIdentifier, roomFrom: NIODeadline?) {
        state.withLockedValue { state in
            guard let entry = state.entries[id] else { return }
            state.entries[id]?.roomFrom = roomFrom
            state.waiting += (roomFrom != nil ? 1 : 0) - (entry.roomFrom != nil ? 1 : 0)
        }
    }

    // MARK: Accepting (Hummingbird's accept handler, on the server channel's event loop)

    /// Puts a ``ListenerWaker`` into the listening channel's pipeline, for accepting again
    /// when there is room without waiting for a close (``isAccepting()``).
    public func attach(listener: any Channel) async throws {
        let eventLoop = listener.eventLoop
        let bound = try await eventLoop.submit {
            let waker = ListenerWaker()
            try listener.pipeline.syncOperations.addHandler(waker, position: .first)
            return NIOLoopBound(waker, eventLoop: eventLoop)
        }.get()
        state.withLockedValue { $0.listener = (eventLoop, bound) }
    }

    /// Asks a connection to close to make room; its ``ConnectionGuard`` does so only if it
    /// still may on its own event loop (a request may have begun since it said it could).
    struct MakeRoom: Sendable {}

    fileprivate func accepted() {
        let now = NIODeadline.now()
        let victim: (any Channel)? = state.withLockedValue { state in
            state.open += 1
            guard state.open > budget else { return nil }
            return Self.takeFirstToMakeRoom(&state, now: now)
        }
        victim?.pipeline.fireUserInboundEventTriggered(MakeRoom())
    }

    /// A connection closed because it was asked to make room.
    func madeRoom() {
        state.withLockedValue { $0.evicted += 1 }
    }

    fileprivate func closed() {
        state.withLockedValue { $0.open -= 1 }
    }

    /// Whether to accept now: below the budget, or when some connection may make room now
    /// (and the connections being closed to make room leave descriptors: at most
    /// ``overshoot`` past the budget). When it says no, it looks again when the first
    /// connection may make room, or after ``recheckInterval`` at the latest, and then reads on the listener if there is room: Hummingbird's accept handler
    /// itself only looks again when a connection closes.
    fileprivate func isAccepting() -> Bool {
        let now = NIODeadline.now()
        let (accepting, recheck, victim) = state.withLockedValue {
            state -> (Bool, (Listener, NIODeadline)?, (any Channel)?) in
            if state.open < budget { return (true, nil, nil) }
            var recheck = now + Self.recheckInterval
            var victim: (any Channel)?
            if state.waiting > 0, let first = Self.firstToMakeRoom(state) {
                if first.from > now {
                    recheck = min(recheck, first.from)
                } else if state.open < budget + Self.overshoot {
                    return (true, nil, nil)
                } else {
                    // Past the overshoot (connections accepted in one read found nobody to
                    // replace): close one that only waits now, so that the count comes down
                    // and accepting goes on, rather than wait for a head's time-out to close one.
                    victim = Self.takeFirstToMakeRoom(&state, now: now)
                }
            }
            guard !state.wakeScheduled, let listener = state.listener else { return (false, nil, victim) }
            state.wakeScheduled = true
            return (false, (listener, recheck), victim)
        }
        victim?.pipeline.fireUserInboundEventTriggered(MakeRoom())
        if let ((eventLoop, waker), deadline) = recheck {
            eventLoop.scheduleTask(deadline: deadline) { [self] in
                state.withLockedValue { $0.wakeScheduled = false }
                if isAccepting() { waker.value.read() }
            }
        }
        return accepting
    }

    /// The connection that may make room the earliest.
    private static func firstToMakeRoom(_ state: State) -> (id: ObjectIdentifier, from: NIODeadline)? {
        var first: (id: ObjectIdentifier, from: NIODeadline)?
        for (id, entry) in state.entries {
            guard let from = entry.roomFrom else { continue }
            if first.map({ from < $0.from }) ?? true { first = (id, from) }
        }
        return first
    }

    /// The connection that may make room the earliest, if it may now, taken out of the
    /// candidates.
    private static func takeFirstToMakeRoom(_ state: inout State, now: NIODeadline) -> (any Channel)? {
        guard let first = firstToMakeRoom(state), first.from <= now, let entry = state.entries[first.id] else {
            return nil
        }
        state.entries[first.id]?.roomFrom = nil
        state.waiting -= 1
        return entry.channel
    }

    private struct Delegate: AvailableConnectionsDelegate {
        let registry: ConnectionRegistry

        mutating func connectionOpened() { registry.accepted() }
        mutating func connectionClosed() { registry.closed() }
        func isAcceptingNewConnections() -> Bool { registry.isAccepting() }
    }
}

/// Reads on the listening channel from just behind its head, so that the read reaches the
/// socket past Hummingbird's accept handler (which swallows reads while it is not accepting).
/// Only ``ConnectionRegistry`` reads through it, when it has checked there is room.
final class ListenerWaker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = any Channel

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Asks the listening socket for the next connections.
    func read() { context?.read() }
}
