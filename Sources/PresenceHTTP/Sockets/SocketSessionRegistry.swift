import NIOConcurrencyHelpers
import PresenceCore

/// The sessions of this node's sockets, by user and session: which socket holds each, and
/// which wait out their reconnect grace. A hello for a session held here takes it over (the
/// old socket closes with 4409 and the session never ends); one for a session in its grace
/// cancels the end.
final class SocketSessionRegistry: Sendable {
    /// A session of a user.
    struct Key: Hashable, Sendable {
        var user: UserID
        var session: SessionID
    }

    private enum Holder {
        case socket(ObjectIdentifier, takeOver: @Sendable () -> Void)
        case grace(Int, end: @Sendable () -> Void)
    }

    private struct State {
        var holders: [Key: Holder] = [:]
        var nextGrace = 0
    }

    private let state = NIOLockedValueBox(State())

    /// `owner` now holds `key`: a socket that held it is told to close (it keeps the session
    /// alive for `owner`); a grace period it was in ends without ending the session.
    func claim(_ key: Key, owner: ObjectIdentifier, takeOver: @escaping @Sendable () -> Void) {
        let previous = state.withLockedValue { state in
            state.holders.updateValue(.socket(owner, takeOver: takeOver), forKey: key)
        }
        if case .socket(let other, let tellPrevious)? = previous, other != owner { tellPrevious() }
    }

    /// `owner` gives `key` up (its session ended, or someone else's did); nothing if another holds it now.
    func release(_ key: Key, owner: ObjectIdentifier) {
        state.withLockedValue { state in
            if case .socket(owner, _)? = state.holders[key] { state.holders[key] = nil }
        }
    }

    /// `owner`'s socket dropped: `key` waits out its grace. Nil when `owner` does not hold it
    /// (taken over); else the grace's number for ``endGrace(_:number:)``.
    /// - Parameter end: ends the session at once (when the node drains first).
    func startGrace(_ key: Key, owner: ObjectIdentifier, end: @escaping @Sendable () -> Void) -> Int? {
        state.withLockedValue { state in
            guard case .socket(owner, _)? = state.holders[key] else { return nil }
            let number = state.nextGrace
            state.nextGrace += 1
            state.holders[key] = .grace(number, end: end)
            return number
        }
    }

    /// The grace `number` of `key` is over: true when nobody took the session over (the
    /// session is then to be ended).
    func endGrace(_ key: Key, number: Int) -> Bool {
        state.withLockedValue { state in
            guard case .grace(number, _)? = state.holders[key] else { return false }
            state.holders[key] = nil
            return true
        }
    }

    /// Every session waiting out its grace, removed: the node drains, so they end now.
    func takeGraces() -> [@Sendable () -> Void] {
        state.withLockedValue { state in
            var ends = [@Sendable () -> Void]()
            for (key, holder) in state.holders {
                if case .grace(_, let end) = holder {
                    ends.append(end)
                    state.holders[key] = nil
                }
            }
            return ends
        }
    }

    /// Sessions held by sockets or waiting out their grace.
    var count: Int { state.withLockedValue { $0.holders.count } }
}
