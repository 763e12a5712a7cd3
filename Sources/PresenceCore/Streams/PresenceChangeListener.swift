import NIOConcurrencyHelpers

/// Takes changes of the users it watches from a ``PresenceChangeHub``, on the thread that
/// publishes them: it must only hand them on (a connected socket hops to its event loop).
/// Unlike a stream ``PresenceChangeHub/Subscription`` it holds no task and no queue in the
/// hub, and the users it watches change while it lives.
public protocol PresenceChangeListener: AnyObject, Sendable {
    /// A record of a watched user changed (or arrived).
    func presenceChanged(_ stored: StoredPresence)
}

extension PresenceChangeHub {
    /// A listener's place in the hub: the users it watches, until it is cancelled.
    public final class Listening: Sendable {
        let id: Int
        private let hub: PresenceChangeHub

        init(id: Int, hub: PresenceChangeHub) {
            self.id = id
            self.hub = hub
        }

        /// Starts delivering changes of `users` (those already watched stay as they are),
        /// unless that would make more than `limit` watched users: then nothing changes.
        /// - Returns: whether the users are watched now.
        @discardableResult
        public func watch(_ users: [UserID], limit: Int = .max) -> Bool { hub.watch(users, listener: id, limit: limit) }

        /// Stops delivering changes of `users`.
        public func unwatch(_ users: some Sequence<UserID>) { hub.unwatch(users, listener: id) }

        /// How many users are watched.
        public var watchedCount: Int { hub.watchedCount(listener: id) }

        /// Ends the listening; nothing is delivered after it returns but what was in flight.
        public func cancel() { hub.removeListener(id) }
    }
}
