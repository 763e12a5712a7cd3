import NIOConcurrencyHelpers

/// Fans presence changes out to live subscribers (the SSE streams), through an index by user
/// id so a change costs work only for the subscribers of that user.
///
/// Each subscriber has a queue bounded in events (`queueCapacity`) and, through its
/// ``StreamBuffer``, in bytes (with the bytes its connection has not sent yet). A subscriber
/// that would pass either bound is cut off: its stream ends after the events already queued,
/// ``Subscription/wasOverrun`` is set so the writer can say why, and its cut-off handler runs
/// so the connection can be closed. Others are never slowed.
public final class PresenceChangeHub: Sendable {
    /// What a subscriber receives.
    public enum Event: Sendable, Equatable {
        /// A record changed (or arrived).
        case presence(StoredPresence)
        /// Time to send a keepalive comment.
        case keepalive

        /// What the event costs while queued: its body and the SSE framing around it.
        var bufferedBytes: Int {
            switch self {
            case .presence(let stored): 64 + stored.responseBody.count
            case .keepalive: 16
            }
        }
    }

    struct Subscriber {
        let continuation: AsyncStream<Event>.Continuation
        let subscription: Subscription
    }

    struct Listener {
        let target: any PresenceChangeListener
        var users: Set<UserID> = []
    }

    private struct State {
        var nextID = 0
        var subscribers: [Int: Subscriber] = [:]
        var index: [UserID: Set<Int>] = [:]
        var overruns = 0
        var listeners: [Int: Listener] = [:]
        var listenerIndex: [UserID: Set<Int>] = [:]
    }

    private let state = NIOLockedValueBox(State())
    /// The most subscribers at once; ``subscribe(to:onCutOff:)`` refuses more.
    public let maxSubscribers: Int
    /// Events a subscriber may have queued before it is cut off.
    public let queueCapacity: Int
    /// The byte bounds of all subscribers.
    public let memory: StreamMemoryBudget

    /// Creates a hub.
    public init(maxSubscribers: Int, queueCapacity: Int, memory: StreamMemoryBudget = StreamMemoryBudget()) {
        self.maxSubscribers = maxSubscribers
        self.queueCapacity = max(1, queueCapacity)
        self.memory = memory
    }

    /// Subscribes to changes of `users`; nil when ``maxSubscribers`` are already subscribed.
    /// - Parameter onCutOff: runs once if the subscriber is cut off for falling behind (on
    ///   the thread that noticed; keep it short).
    public func subscribe(to users: [UserID], onCutOff: @escaping @Sendable () -> Void = {}) -> Subscription? {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingOldest(queueCapacity))
        let buffer = StreamBuffer(budget: memory)
        let subscription: Subscription? = state.withLockedValue { state in
            guard state.subscribers.count < maxSubscribers else { return nil }
            let id = state.nextID
            state.nextID += 1
            let subscription = Subscription(
                id: id, users: users, events: Subscription.Events(stream: stream, buffer: buffer), buffer: buffer,
                hub: self, onCutOff: onCutOff)
            state.subscribers[id] = Subscriber(continuation: continuation, subscription: subscription)
            for user in users { state.index[user, default: []].insert(id) }
            return subscription
        }
        guard let subscription else {
            continuation.finish()
            return nil
        }
        continuation.onTermination = { [weak self] _ in self?.remove(subscription.id) }
        return subscription
    }

    /// Delivers a change to the subscribers and listeners of its user.
    public func publish(_ stored: StoredPresence) {
        let (targets, listeners): ([Subscriber], [any PresenceChangeListener]) = state.withLockedValue { state in
            let targets = state.index[stored.user].map { ids in ids.compactMap { state.subscribers[$0] } } ?? []
            let listeners =
                state.listenerIndex[stored.user].map { ids in ids.compactMap { state.listeners[$0]?.target } } ?? []
            return (targets, listeners)
        }
        if !targets.isEmpty { deliver(.presence(stored), to: targets) }
        for listener in listeners { listener.presenceChanged(stored) }
    }

    /// Adds a listener that watches no user yet.
    public func listen(_ listener: any PresenceChangeListener) -> Listening {
        let id = state.withLockedValue { state in
            let id = state.nextID
            state.nextID += 1
            state.listeners[id] = Listener(target: listener)
            return id
        }
        return Listening(id: id, hub: self)
    }

    /// Listeners right now.
    public var listenerCount: Int { state.withLockedValue { $0.listeners.count } }

    func watch(_ users: [UserID], listener id: Int, limit: Int) -> Bool {
        state.withLockedValue { state in
            guard let listener = state.listeners[id] else { return false }
            let added = Set(users).subtracting(listener.users)
            guard listener.users.count + added.count <= limit else { return false }
            state.listeners[id]?.users.formUnion(added)
            for user in added { state.listenerIndex[user, default: []].insert(id) }
            return true
        }
    }

    func unwatch(_ users: some Sequence<UserID>, listener id: Int) {
        state.withLockedValue { state in
            for user in users where state.listeners[id]?.users.remove(user) != nil {
                Self.unindex(user, id, in: &state.listenerIndex)
            }
        }
    }

    func watchedCount(listener id: Int) -> Int {
        state.withLockedValue { $0.listeners[id]?.users.count ?? 0 }
    }

    func removeListener(_ id: Int) {
        state.withLockedValue { state in
            guard let listener = state.listeners.removeValue(forKey: id) else { return }
            for user in listener.users { Self.unindex(user, id, in: &state.listenerIndex) }
        }
    }

    private static func unindex(_ user: UserID, _ id: Int, in index: inout [UserID: Set<Int>]) {
        index[user]?.remove(id)
        if index[user]?.isEmpty == true { index[user] = nil }
    }

    /// Sends a keepalive to every subscriber.
    public func keepalive() {
        deliver(.keepalive, to: state.withLockedValue { Array($0.subscribers.values) })
    }

    /// Subscribers right now.
    public var subscriberCount: Int { state.withLockedValue { $0.subscribers.count } }

    /// Subscribers cut off for falling behind, since start.
    public var overrunCount: Int { state.withLockedValue { $0.overruns } }

    /// Bytes held for all subscribers right now (queued, or written but not yet sent).
    public var bufferedBytes: Int { memory.bufferedBytes }

    private func deliver(_ event: Event, to targets: [Subscriber]) {
        let bytes = event.bufferedBytes
        for target in targets {
            let buffer = target.subscription.buffer
            guard buffer.reserve(bytes) else {
                cutOff(target.subscription)
                continue
            }
            switch target.continuation.yield(event) {
            case .enqueued: break
            case .dropped:
                buffer.release(bytes)
                cutOff(target.subscription)
            case .terminated: buffer.release(bytes)
            @unknown default: buffer.release(bytes)
            }
        }
    }

    /// Marks a subscriber overrun, removes it and runs its cut-off handler (once).
    func cutOff(_ subscription: Subscription) {
        subscription.markOverrun()
        guard remove(subscription.id) else { return }
        state.withLockedValue { $0.overruns += 1 }
        subscription.onCutOff()
    }

    /// Removes a subscriber, ends its stream and gives back its bytes; false when it was already gone.
    @discardableResult
    func remove(_ id: Int) -> Bool {
        let removed: Subscriber? = state.withLockedValue { state in
            guard let subscriber = state.subscribers.removeValue(forKey: id) else { return nil }
            for user in subscriber.subscription.users {
                state.index[user]?.remove(id)
                if state.index[user]?.isEmpty == true { state.index[user] = nil }
            }
            return subscriber
        }
        removed?.subscription.buffer.close()
        removed?.continuation.finish()
        return removed != nil
    }
}
