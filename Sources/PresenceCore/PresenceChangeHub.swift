import Synchronization

/// Fans presence changes out to live subscribers (the SSE streams), through an index by user
/// id so a change costs work only for the subscribers of that user.
///
/// Each subscriber has a bounded queue. A subscriber whose queue is full when a change
/// arrives is cut off: its stream ends after the events already queued and
/// ``Subscription/wasOverrun`` is set, so the writer can say why. Others are never slowed.
public final class PresenceChangeHub: Sendable {
    /// What a subscriber receives.
    public enum Event: Sendable, Equatable {
        /// A record changed (or arrived).
        case presence(StoredPresence)
        /// Time to send a keepalive comment.
        case keepalive
    }

    /// One subscriber's view of the hub.
    public final class Subscription: Sendable {
        /// The events, ending when the subscription is cancelled or overrun.
        public let events: AsyncStream<Event>
        let id: Int
        let users: [UserID]
        private let hub: PresenceChangeHub
        private let overrun = Atomic(false)

        init(id: Int, users: [UserID], events: AsyncStream<Event>, hub: PresenceChangeHub) {
            self.id = id
            self.users = users
            self.events = events
            self.hub = hub
        }

        /// Whether the subscriber fell behind and was cut off.
        public var wasOverrun: Bool { overrun.load(ordering: .acquiring) }

        func markOverrun() { overrun.store(true, ordering: .releasing) }

        /// Ends the subscription and frees its place in the hub.
        public func cancel() { hub.remove(id) }
    }

    private struct Subscriber {
        let continuation: AsyncStream<Event>.Continuation
        let subscription: Subscription
    }

    private struct State {
        var nextID = 0
        var subscribers: [Int: Subscriber] = [:]
        var index: [UserID: Set<Int>] = [:]
        var overruns = 0
    }

    private let state = Mutex(State())
    /// The most subscribers at once; ``subscribe(to:)`` refuses more.
    public let maxSubscribers: Int
    /// Events a subscriber may have queued before it is cut off.
    public let queueCapacity: Int

    /// Creates a hub.
    public init(maxSubscribers: Int, queueCapacity: Int) {
        self.maxSubscribers = maxSubscribers
        self.queueCapacity = max(1, queueCapacity)
    }

    /// Subscribes to changes of `users`; nil when ``maxSubscribers`` are already subscribed.
    public func subscribe(to users: [UserID]) -> Subscription? {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingOldest(queueCapacity))
        let subscription: Subscription? = state.withLock { state in
            guard state.subscribers.count < maxSubscribers else { return nil }
            let id = state.nextID
            state.nextID += 1
            let subscription = Subscription(id: id, users: users, events: stream, hub: self)
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

    /// Delivers a change to the subscribers of its user.
    public func publish(_ stored: StoredPresence) {
        let targets: [Subscriber] = state.withLock { state in
            guard let ids = state.index[stored.user] else { return [] }
            return ids.compactMap { state.subscribers[$0] }
        }
        deliver(.presence(stored), to: targets)
    }

    /// Sends a keepalive to every subscriber.
    public func keepalive() {
        deliver(.keepalive, to: state.withLock { Array($0.subscribers.values) })
    }

    /// Subscribers right now.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Subscribers cut off for falling behind, since start.
    public var overrunCount: Int { state.withLock { $0.overruns } }

    private func deliver(_ event: Event, to targets: [Subscriber]) {
        for target in targets {
            if case .dropped = target.continuation.yield(event) {
                target.subscription.markOverrun()
                if remove(target.subscription.id) { state.withLock { $0.overruns += 1 } }
            }
        }
    }

    /// Removes a subscriber and ends its stream; false when it was already gone.
    @discardableResult
    fileprivate func remove(_ id: Int) -> Bool {
        let removed: Subscriber? = state.withLock { state in
            guard let subscriber = state.subscribers.removeValue(forKey: id) else { return nil }
            for user in subscriber.subscription.users {
                state.index[user]?.remove(id)
                if state.index[user]?.isEmpty == true { state.index[user] = nil }
            }
            return subscriber
        }
        removed?.continuation.finish()
        return removed != nil
    }
}
