import PresenceCore
import Testing

@testable import PresenceHTTP

/// The life of a connected socket (SPEC §3b) as a value, with time passed in.
@Suite("Socket lifecycle")
struct SocketLifecycleTests {
    /// Ping every 20 s, pong within 10 s more, hello within 5 s.
    let timing = SocketLifecycle.Timing(pingInterval: 20_000, pongTimeout: 10_000, authTimeout: 5_000)
    let t0 = Timestamp(millisecondsSinceEpoch: 1_795_255_200_000)

    func at(_ seconds: Double) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: t0.millisecondsSinceEpoch + Int64(seconds * 1_000))
    }

    func live(tokenExpires: Timestamp? = nil) -> SocketLifecycle {
        var socket = SocketLifecycle(timing: timing, now: t0)
        _ = socket.helloArrived()
        _ = socket.welcomed(now: t0, tokenExpires: tokenExpires)
        return socket
    }

    @Test func noHelloWithinTheAuthTimeoutCloses4408WithNoSessionToEnd() {
        var socket = SocketLifecycle(timing: timing, now: t0)
        #expect(socket.nextWakeUp == at(5))
        let r1 = socket.tick(now: at(4.9))
        #expect(r1 == .none)
        let r2 = socket.tick(now: at(5))
        #expect(r2 == .close(.noHello))
        #expect(SocketClose.noHello.ending == .keep && SocketClose.noHello.code == 4408)
        #expect(socket.isClosed && socket.nextWakeUp == nil)
    }

    @Test func aHelloBeingVerifiedStillHasTheDeadlineAndARefusedOneMayBeRetried() {
        var socket = SocketLifecycle(timing: timing, now: t0)
        let r3 = socket.helloArrived()
        #expect(r3)
        let r4 = socket.helloArrived()
        #expect(!r4, "one hello at a time")
        socket.helloRefused()
        let r5 = socket.helloArrived()
        #expect(r5, "a corrected hello")
        let r6 = socket.tick(now: at(5))
        #expect(r6 == .close(.noHello), "an identity provider that hangs does not keep the socket")
        let r7 = socket.welcomed(now: at(6), tokenExpires: nil)
        #expect(!r7, "welcomed after the close: its session must be ended")
    }

    @Test func aLiveSocketIsPingedEveryIntervalAndClosedWhenSilent() {
        var socket = live()
        let r10 = socket.heard(now: at(5))
        #expect(!r10, "a frame soon after the welcome needs no heartbeat")
        #expect(socket.nextWakeUp == at(20))
        let r8 = socket.tick(now: at(19.9))
        #expect(r8 == .none)
        let r9 = socket.tick(now: at(20))
        #expect(r9 == .sendPing)
        #expect(socket.nextWakeUp == at(35), "the pong deadline (5 + 20 + 10) comes before the next ping")
        let r11 = socket.heard(now: at(21))
        #expect(r11, "the pong refreshes the session")
        let r12 = socket.tick(now: at(40))
        #expect(r12 == .sendPing)
        // Silent from here: the last frame at 21 s, so the deadline is 21 + 20 + 10.
        let r13 = socket.tick(now: at(50.9))
        #expect(r13 == .none)
        let r14 = socket.tick(now: at(51))
        #expect(r14 == .close(.silent))
        #expect(SocketClose.silent.ending == .now)
    }

    @Test func aClientFloodingPongsRefreshesAtMostOncePerHalfInterval() {
        var socket = live()
        var refreshes = 0
        for tenth in 0..<300 where socket.heard(now: at(Double(tenth) / 10)) { refreshes += 1 }
        #expect(refreshes == 2, "30 s of pongs every 100 ms: refreshed at 10 s and 20 s")
    }

    @Test func theTokenRunningOutClosesWithTheGracePeriod() {
        var socket = live(tokenExpires: at(15))
        #expect(socket.nextWakeUp == at(15))
        let r15 = socket.tick(now: at(15))
        #expect(r15 == .close(.tokenExpired))
        #expect(SocketClose.tokenExpired.ending == .afterGrace && SocketClose.tokenExpired.code == 4401)
    }

    @Test func whatAClosingSocketMeansForItsSession() {
        var dropped = live()
        let r16 = dropped.dropped()
        #expect(r16 == .afterGrace)
        let r17 = dropped.dropped()
        #expect(r17 == .keep, "settled once")
        var closed = live()
        let r18 = closed.close(.byClient)
        #expect(r18 == .now)
        var draining = live()
        let r19 = draining.close(.goingAway)
        #expect(r19 == .now)
        var takenOver = live()
        let r20 = takenOver.close(.takenOver)
        #expect(r20 == .keep)
        var slow = live()
        let r21 = slow.close(.slowReader)
        #expect(r21 == .afterGrace)
        var unwelcomed = SocketLifecycle(timing: timing, now: t0)
        let r22 = unwelcomed.dropped()
        #expect(r22 == .keep, "no session yet")
    }

    @Test func settingsDeriveTheSessionTTLFromThePingInterval() {
        #expect(SocketSettings().sessionTTL == 60)
        #expect(SocketSettings(pingInterval: 1, pongTimeout: 1).sessionTTL == 10, "never below the shortest ttl")
        #expect(SocketSettings(pingInterval: 5, pongTimeout: 30).sessionTTL == 35, "at least the silence allowed")
    }
}
