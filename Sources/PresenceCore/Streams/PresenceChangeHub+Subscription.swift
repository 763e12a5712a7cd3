import Synchronization

extension PresenceChangeHub {
    /// One subscriber's view of the hub.
    public final class Subscription: Sendable {
        /// The events, ending when the subscription is cancelled or cut off.
        public let events: Events
        /// What this subscriber holds in bytes; its connection adds what it has not sent yet.
        public let buffer: StreamBuffer
        let id: Int
        let users: [UserID]
        private let hub: PresenceChangeHub
        private let overrun = Atomic(false)
        let onCutOff: @Sendable () -> Void

        init(
            id: Int, users: [UserID], events: Events, buffer: StreamBuffer, hub: PresenceChangeHub,
            onCutOff: @escaping @Sendable () -> Void
        ) {
            self.id = id
            self.users = users
            self.events = events
            self.buffer = buffer
            self.hub = hub
            self.onCutOff = onCutOff
        }

        /// Whether the subscriber fell behind and was cut off.
        public var wasOverrun: Bool { overrun.load(ordering: .acquiring) }

        func markOverrun() { overrun.store(true, ordering: .releasing) }

        /// Ends the subscription and frees its place in the hub.
        public func cancel() { hub.remove(id) }

        /// Cuts the subscriber off as a slow consumer (its connection holds too much): counted
        /// as an overrun, the stream ends and the cut-off handler runs, once.
        public func cutOff() { hub.cutOff(self) }
    }
}

extension PresenceChangeHub.Subscription {
    /// The events of a subscription; taking one gives its bytes back to the subscription's buffer.
    public struct Events: AsyncSequence, Sendable {
        public typealias Element = PresenceChangeHub.Event
        let stream: AsyncStream<Element>
        let buffer: StreamBuffer

        /// Iterates the events.
        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: AsyncStream<Element>.Iterator
            let buffer: StreamBuffer

            /// The next event, nil at the end.
            public mutating func next() async -> Element? {
                guard let event = await base.next() else { return nil }
                buffer.release(event.bufferedBytes)
                return event
            }
        }

        /// An iterator over the events.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: stream.makeAsyncIterator(), buffer: buffer)
        }
    }
}
