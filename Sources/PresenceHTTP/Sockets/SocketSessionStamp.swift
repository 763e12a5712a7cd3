import NIOConcurrencyHelpers
import PresenceCore

/// The latest `updated_at` a socket wrote into its session (its hello, its `set`s, its
/// heartbeats). A session whose `updated_at` is later was refreshed by someone else: another
/// socket that took it over, here or on another node. Shared with the socket's tasks, which
/// may finish after the socket closed.
final class SocketSessionStamp: Sendable {
    private let latest = NIOLockedValueBox<Timestamp?>(nil)

    /// Notes what the socket just wrote (earlier times change nothing).
    func note(_ time: Timestamp) {
        latest.withLockedValue { $0 = max($0 ?? time, time) }
    }

    /// Notes the socket's session as `stored` holds it.
    func note(_ session: SessionID, in stored: StoredPresence) {
        if let written = stored.userPresence.session(session) { note(written.updatedAt) }
    }

    /// Whether the session as read now was last written by this socket.
    func isOurs(_ session: PresenceSession) -> Bool {
        guard let latest = latest.withLockedValue({ $0 }) else { return false }
        return session.updatedAt <= latest
    }
}
