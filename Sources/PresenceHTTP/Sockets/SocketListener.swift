import NIOCore
import PresenceCore

/// A socket's place in the change hub: hands each change to the socket's event loop.
final class SocketListener: PresenceChangeListener {
    private let handler: NIOLoopBound<PresenceSocketHandler>

    init(_ handler: NIOLoopBound<PresenceSocketHandler>) {
        self.handler = handler
    }

    func presenceChanged(_ stored: StoredPresence) {
        let handler = self.handler
        handler.eventLoop.execute { handler.value.deliver(stored) }
    }
}
