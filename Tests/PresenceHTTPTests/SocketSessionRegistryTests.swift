import NIOConcurrencyHelpers
import PresenceCore
import Testing

@testable import PresenceHTTP

/// Which socket holds a session, and the reconnect grace (SPEC §3b): a takeover closes the
/// old socket without ending the session; a drop waits out the grace unless a new socket
/// claims the session first.
@Suite("Socket session registry")
struct SocketSessionRegistryTests {
    final class Socket {}

    let key = SocketSessionRegistry.Key(user: try! UserID(validating: "alice"), session: try! SessionID(validating: "phone"))

    @Test func aSecondSocketTakesTheSessionOverAndTheFirstIsTold() {
        let registry = SocketSessionRegistry()
        let (first, second) = (Socket(), Socket())
        let told = NIOLockedValueBox(0)
        registry.claim(key, owner: ObjectIdentifier(first)) { told.withLockedValue { $0 += 1 } }
        registry.claim(key, owner: ObjectIdentifier(second)) { Issue.record("the new holder is not told") }
        #expect(told.withLockedValue { $0 } == 1)
        // The first socket's close changes nothing: the second holds the session.
        registry.release(key, owner: ObjectIdentifier(first))
        #expect(registry.startGrace(key, owner: ObjectIdentifier(first), end: {}) == nil)
        #expect(registry.count == 1)
        registry.release(key, owner: ObjectIdentifier(second))
        #expect(registry.count == 0)
    }

    @Test func aDropWaitsOutItsGraceUnlessANewSocketClaimsTheSession() {
        let registry = SocketSessionRegistry()
        let (dropped, reconnected) = (Socket(), Socket())
        registry.claim(key, owner: ObjectIdentifier(dropped)) {}
        let number = registry.startGrace(key, owner: ObjectIdentifier(dropped), end: {})
        #expect(number != nil)
        registry.claim(key, owner: ObjectIdentifier(reconnected)) { Issue.record("a session in its grace has no socket to tell") }
        #expect(!registry.endGrace(key, number: number ?? -1), "taken over: the grace ends without ending the session")

        let again = registry.startGrace(key, owner: ObjectIdentifier(reconnected), end: {})
        #expect(registry.endGrace(key, number: again ?? -1), "nobody came: the session is to be ended")
        #expect(!registry.endGrace(key, number: again ?? -1), "once")
    }

    @Test func aDrainTakesEverySessionInItsGraceOnce() {
        let registry = SocketSessionRegistry()
        let socket = Socket()
        let ended = NIOLockedValueBox(0)
        registry.claim(key, owner: ObjectIdentifier(socket)) {}
        let number = registry.startGrace(key, owner: ObjectIdentifier(socket)) { ended.withLockedValue { $0 += 1 } }
        for end in registry.takeGraces() { end() }
        #expect(ended.withLockedValue { $0 } == 1)
        #expect(registry.takeGraces().isEmpty)
        #expect(!registry.endGrace(key, number: number ?? -1), "the timer that fires later ends nothing more")
    }
}
