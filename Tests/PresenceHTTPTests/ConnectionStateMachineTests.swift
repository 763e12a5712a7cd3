import NIOCore
import PresenceCore
import Testing

@testable import PresenceHTTP

/// The connection rules without I/O: time-outs, keep-alive, framing errors, the drain.
@Suite("ConnectionStateMachine")
struct ConnectionStateMachineTests {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    private func machine(header: Int64 = 10, idle: Int64 = 60, drain: Int64 = 2, linger: Int64 = 2)
        -> ConnectionStateMachine
    {
        var settings = HTTPServerSettings(headerTimeout: .seconds(header), idleTimeout: .seconds(idle))
        settings.drainPeriod = .seconds(drain)
        settings.lingerPeriod = .seconds(linger)
        return ConnectionStateMachine(timeouts: .init(settings), now: start)
    }

    private func at(_ seconds: Double) -> NIODeadline { start + .nanoseconds(Int64(seconds * 1e9)) }

    private let bad = PresenceError(.badRequest, "malformed")

    /// One keep-alive request answered: head, end, response head, response end.
    private func exchange(_ connection: inout ConnectionStateMachine, at seconds: Double) -> ConnectionStateMachine.AfterResponse {
        _ = connection.bytesReceived(now: at(seconds))
        let forwarded = connection.headReceived(keepAlive: true, isHTTP10: false)
        #expect(forwarded)
        _ = connection.endReceived(now: at(seconds))
        let framing = connection.responseHeadWritten(hasContentLength: true)
        #expect(framing == .init(closes: false, isHTTP10: false))
        return connection.responseEndWritten(now: at(seconds))
    }

    @Test func aConnectionThatSendsNothingIsClosedAfterTheHeaderTimeout() {
        var connection = machine()
        #expect(connection.deadline == at(10))
        let onTimer = connection.timerFired(now: at(9.9))
        #expect(onTimer == .wakeUp(at(10)))
        let onTimer2 = connection.timerFired(now: at(10))
        #expect(onTimer2 == .closeNow(.slowHead))
    }

    @Test func trickledBytesDoNotExtendTheHeaderTimeout() {
        var connection = machine()
        for second in 0..<10 {
            let wakeUp = connection.bytesReceived(now: at(Double(second)))
            #expect(wakeUp == nil, "a head in progress keeps its deadline")
        }
        #expect(connection.deadline == at(10))
        let onTimer = connection.timerFired(now: at(10.5))
        #expect(onTimer == .closeNow(.slowHead))
    }

    @Test func theHeaderTimeoutOfALaterRequestCountsFromItsFirstByte() {
        var connection = machine()
        #expect(exchange(&connection, at: 1) == .keepOpen(wakeUp: at(11)))
        #expect(connection.deadline == at(61), "idle")
        let onTimer = connection.timerFired(now: at(11))
        #expect(onTimer == .wakeUp(at(21)), "idle: wakes up at least every header timeout")
        let wakeUp = connection.bytesReceived(now: at(30))
        #expect(wakeUp == at(40))
        #expect(connection.deadline == at(40))
        let forwarded = connection.headReceived(keepAlive: true, isHTTP10: false, now: at(31))
        #expect(forwarded)
        #expect(connection.deadline == at(41), "the body must keep coming")
        let more = connection.bytesReceived(now: at(35))
        #expect(more != nil)
        #expect(connection.deadline == at(45))
        _ = connection.endReceived(now: at(36))
        #expect(connection.deadline == nil, "a request being answered has no deadline")
        let onTimer2 = connection.timerFired(now: at(100))
        #expect(onTimer2 == .none)
    }

    @Test func aBodyThatStopsComingIsAnsweredThenCutOffAfterTheHeaderTimeout() {
        var connection = machine()
        let forwarded = connection.headReceived(keepAlive: true, isHTTP10: false, now: at(1))
        #expect(forwarded)
        let onTimer = connection.timerFired(now: at(11))
        #expect(onTimer == .failRequest(.slowBody))
        #expect(connection.roomFrom == nil, "a failing request is not a connection to make room with")
        // Its response closes the connection; with no response it is closed at the deadline.
        let framing = connection.responseHeadWritten(hasContentLength: true)
        #expect(framing.closes)
        #expect(connection.responseEndWritten(now: at(12)) == .close)
    }

    @Test func aBodyThatStopsComingWithoutAResponseIsClosedAfterTheLingerPeriod() throws {
        var connection = machine()
        _ = connection.headReceived(keepAlive: true, isHTTP10: false, now: at(1))
        #expect(connection.timerFired(now: at(11)) == .failRequest(.slowBody))
        let deadline = try #require(connection.deadline)
        #expect(connection.timerFired(now: deadline) == .closeNow(.lingerEnded))
    }

    @Test func aBodyThatStopsAfterItsResponseBeganIsJustClosed() {
        var connection = machine()
        _ = connection.headReceived(keepAlive: true, isHTTP10: false, now: at(1))
        _ = connection.responseHeadWritten(hasContentLength: true)
        #expect(connection.timerFired(now: at(11)) == .closeNow(.slowBody))
    }

    @Test func aConnectionMakesRoomOnlyWhileItWaitsForItsClient() {
        var connection = machine()
        #expect(connection.roomFrom == at(0.25), "a new connection that sent nothing: its request may be on its way")
        #expect(connection.awaitsBytes)
        _ = connection.bytesReceived(now: at(0.1))
        #expect(connection.roomFrom == at(0), "a head begun and not ended, from the connection's start")
        #expect(!connection.awaitsBytes, "more bytes of the head change nothing")
        _ = connection.headReceived(keepAlive: true, isHTTP10: false, now: at(1))
        #expect(connection.roomFrom == nil, "reading a body")
        _ = connection.endReceived(now: at(2))
        #expect(connection.roomFrom == nil, "answering")
        _ = connection.responseHeadWritten(hasContentLength: true)
        _ = connection.responseEndWritten(now: at(3))
        #expect(connection.roomFrom == at(3), "a keep-alive connection between requests")
        _ = connection.bytesReceived(now: at(4))
        #expect(connection.roomFrom == at(4), "the next head has begun")
    }

    @Test func aBodyTrickledForeverIsCutAtItsOwnDeadline() {
        var connection = machine()
        _ = connection.headReceived(keepAlive: true, isHTTP10: false, now: at(1))
        // A byte every 9 s keeps the between-bytes deadline; the body's own is 3 header
        // timeouts after its head.
        for second in stride(from: 10.0, through: 28.0, by: 9.0) {
            _ = connection.bytesReceived(now: at(second))
            #expect(connection.timerFired(now: at(second)) != .failRequest(.slowBody))
        }
        #expect(connection.deadline == at(31))
        #expect(connection.timerFired(now: at(31)) == .failRequest(.slowBody))
    }

    @Test func theRestOfTheBodyOfAnAnsweredRequestMakesRoom() {
        var connection = machine()
        _ = connection.headReceived(keepAlive: true, isHTTP10: false, now: at(1))
        #expect(connection.roomFrom == nil, "its request is not answered yet")
        _ = connection.responseHeadWritten(hasContentLength: true)
        _ = connection.responseEndWritten(now: at(2))
        _ = connection.bytesReceived(now: at(3))
        #expect(connection.roomFrom == at(3), "answered: only the rest of its body comes")
    }

    @Test func anHTTPSConnectionInItsHandshakeDoesNotMakeRoom() {
        var settings = HTTPServerSettings(headerTimeout: .seconds(10), idleTimeout: .seconds(60))
        settings.lingerPeriod = .seconds(2)
        var connection = ConnectionStateMachine(timeouts: .init(settings), now: start, tls: true)
        #expect(connection.roomFrom == nil, "the handshake is under way")
        connection.tlsHandshakeCompleted(now: at(1))
        #expect(connection.roomFrom == at(1.25), "its first bytes are awaited from the handshake on")
        #expect(connection.deadline == at(10), "the head's deadline still counts from the opening")
    }

    @Test func aFullBudgetClosesTheConnectionAfterItsResponse() {
        var connection = machine()
        _ = connection.headReceived(keepAlive: true, isHTTP10: false, now: at(1))
        _ = connection.endReceived(now: at(1))
        #expect(connection.responseHeadWritten(hasContentLength: true, budgetFull: true).closes)
        #expect(connection.responseEndWritten(now: at(2)) == .close)
    }

    @Test func underPressureAHeadGetsAFifthOfTheHeaderTimeoutButAtLeastASecond() {
        let timeouts = ConnectionStateMachine.Timeouts(HTTPServerSettings(headerTimeout: .seconds(10), idleTimeout: .seconds(60)))
        #expect(timeouts.header == .seconds(10))
        #expect(timeouts.underPressure().header == .seconds(2))
        #expect(timeouts.underPressure().idle == timeouts.idle)
        var short = HTTPServerSettings(headerTimeout: .seconds(2), idleTimeout: .seconds(60))
        #expect(ConnectionStateMachine.Timeouts(short).underPressure().header == .seconds(1))
        short.headerTimeout = .milliseconds(500)
        #expect(ConnectionStateMachine.Timeouts(short).underPressure().header == .milliseconds(500))
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeoutButNotWhileAResponseIsPending() {
        var connection = machine()
        _ = connection.bytesReceived(now: at(1))
        let forwarded = connection.headReceived(keepAlive: true, isHTTP10: false)
        #expect(forwarded)
        _ = connection.endReceived(now: at(1))
        #expect(connection.deadline == nil, "a stream may answer for hours")
        let framing = connection.responseHeadWritten(hasContentLength: false)
        #expect(framing == .init(closes: false, isHTTP10: false))
        let onTimer = connection.timerFired(now: at(500))
        #expect(onTimer == .none)
        let afterResponse = connection.responseEndWritten(now: at(1000))
        #expect(afterResponse == .keepOpen(wakeUp: at(1010)))
        #expect(connection.deadline == at(1060))
        let onTimer2 = connection.timerFired(now: at(1060))
        #expect(onTimer2 == .closeNow(.idle))
    }

    @Test func http10IsAnsweredInHTTP10AndClosedUnlessKeptAliveWithALength() {
        var connection = machine()
        let forwarded = connection.headReceived(keepAlive: false, isHTTP10: true)
        #expect(forwarded)
        _ = connection.endReceived(now: at(0))
        let framing = connection.responseHeadWritten(hasContentLength: true)
        #expect(framing == .init(closes: true, isHTTP10: true))
        let afterResponse = connection.responseEndWritten(now: at(0))
        #expect(afterResponse == .close)
        #expect(connection.inputClosed(), "a closing connection closes when the client does")

        var keptAlive = machine()
        let forwarded2 = keptAlive.headReceived(keepAlive: true, isHTTP10: true)
        #expect(forwarded2)
        let framing2 = keptAlive.responseHeadWritten(hasContentLength: true)
        #expect(framing2 == .init(closes: false, isHTTP10: true))
        let afterResponse2 = keptAlive.responseEndWritten(now: at(0))
        #expect(afterResponse2 != .close)
        let forwarded3 = keptAlive.headReceived(keepAlive: true, isHTTP10: true)
        #expect(forwarded3)
        let framing3 = keptAlive.responseHeadWritten(hasContentLength: false)
        #expect(framing3 == .init(closes: true, isHTTP10: true))
    }

    @Test func connectionCloseFromAnHTTP11ClientClosesAfterTheResponse() {
        var connection = machine()
        let forwarded = connection.headReceived(keepAlive: false, isHTTP10: false)
        #expect(forwarded)
        let framing = connection.responseHeadWritten(hasContentLength: true)
        #expect(framing.closes)
        let afterResponse = connection.responseEndWritten(now: at(0))
        #expect(afterResponse == .close)
        #expect(connection.deadline == at(2), "lingers at most the linger period")
        let forwarded2 = connection.headReceived(keepAlive: true, isHTTP10: false)
        #expect(forwarded2 == false, "input after the close is dropped")
    }

    @Test func aFramingErrorBeforeAHeadIsAnsweredAndCloses() {
        var connection = machine()
        let onError = connection.framingFailed(bad, now: at(1))
        #expect(onError == .answerAndClose(bad))
        let onError2 = connection.framingFailed(bad, now: at(1))
        #expect(onError2 == .ignore)
        #expect(connection.inputClosed())
        let onTimer = connection.timerFired(now: at(3))
        #expect(onTimer == .closeNow(.lingerEnded))
    }

    @Test func aFramingErrorInABodyGoesToItsHandlerAndTheResponseCloses() {
        var connection = machine()
        let forwarded = connection.headReceived(keepAlive: true, isHTTP10: false)
        #expect(forwarded)
        let onError = connection.framingFailed(bad, now: at(0))
        #expect(onError == .forward)
        #expect(connection.bodyReceived() == false)
        let framing = connection.responseHeadWritten(hasContentLength: true)
        #expect(framing.closes)
        let afterResponse = connection.responseEndWritten(now: at(0))
        #expect(afterResponse == .close)
    }

    @Test func aFramingErrorInTheBodyOfAnAnsweredRequestClosesWithoutAResponse() {
        var connection = machine()
        let forwarded = connection.headReceived(keepAlive: true, isHTTP10: false, now: at(0))
        #expect(forwarded)
        _ = connection.responseHeadWritten(hasContentLength: true)
        let afterResponse = connection.responseEndWritten(now: at(0))
        #expect(afterResponse == .keepOpen(wakeUp: at(10)), "the unread body must still come")
        let onError = connection.framingFailed(bad, now: at(0))
        #expect(onError == .close)
    }

    @Test func aFramingErrorAfterAPipelinedRequestWaitsForItsResponse() {
        var connection = machine()
        let forwarded = connection.headReceived(keepAlive: true, isHTTP10: false)
        #expect(forwarded)
        _ = connection.endReceived(now: at(0))
        let onError = connection.framingFailed(bad, now: at(0))
        #expect(onError == .wait)
        let framing = connection.responseHeadWritten(hasContentLength: true)
        #expect(framing.closes == false)
        let afterResponse = connection.responseEndWritten(now: at(0))
        #expect(afterResponse == .answerAndClose(bad))
    }

    @Test func shutdownGivesIdleConnectionsTheDrainPeriodAndClosesAfterTheLastResponse() {
        var idle = machine()
        #expect(exchange(&idle, at: 1) == .keepOpen(wakeUp: at(11)))
        let drainWakeUp = idle.shutdownBegan(now: at(5))
        #expect(drainWakeUp == at(7))
        // A request that comes during the drain is answered, with Connection: close.
        _ = idle.bytesReceived(now: at(6))
        let forwarded = idle.headReceived(keepAlive: true, isHTTP10: false)
        #expect(forwarded)
        _ = idle.endReceived(now: at(6))
        let framing = idle.responseHeadWritten(hasContentLength: true)
        #expect(framing.closes)
        let afterResponse = idle.responseEndWritten(now: at(6))
        #expect(afterResponse == .close)

        var quiet = machine()
        #expect(exchange(&quiet, at: 1) == .keepOpen(wakeUp: at(11)))
        let drainWakeUp2 = quiet.shutdownBegan(now: at(5))
        #expect(drainWakeUp2 == at(7))
        let onTimer = quiet.timerFired(now: at(7))
        #expect(onTimer == .closeNow(.idle))
    }

    @Test func shutdownDuringAResponseClosesAfterIt() {
        var connection = machine()
        let forwarded = connection.headReceived(keepAlive: true, isHTTP10: false)
        #expect(forwarded)
        _ = connection.endReceived(now: at(0))
        let framing = connection.responseHeadWritten(hasContentLength: false)
        #expect(framing.closes == false)
        let drainWakeUp = connection.shutdownBegan(now: at(1))
        #expect(drainWakeUp == nil)
        let afterResponse = connection.responseEndWritten(now: at(2))
        #expect(afterResponse == .close)
    }

    @Test func shutdownAnswersEveryPipelinedRequestBeforeClosing() {
        var connection = machine()
        for _ in 0..<2 {
            let forwarded = connection.headReceived(keepAlive: true, isHTTP10: false)
            #expect(forwarded)
            _ = connection.endReceived(now: at(0))
        }
        _ = connection.shutdownBegan(now: at(0))
        let framing = connection.responseHeadWritten(hasContentLength: true)
        #expect(framing.closes == false)
        let afterResponse = connection.responseEndWritten(now: at(0))
        #expect(afterResponse == .keepOpen(wakeUp: nil))
        let framing2 = connection.responseHeadWritten(hasContentLength: true)
        #expect(framing2.closes)
        let afterResponse2 = connection.responseEndWritten(now: at(0))
        #expect(afterResponse2 == .close)
    }
}
