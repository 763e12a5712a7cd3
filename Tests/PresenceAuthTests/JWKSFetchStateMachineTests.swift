import Testing

@testable import PresenceAuth

/// When the JWK Set URL is fetched: one fetch at a time, joined by whoever needs one.
@Suite("JWK Set fetch state machine")
struct JWKSFetchStateMachineTests {
    typealias Machine = JWKSFetchStateMachine
    private let start = ContinuousClock.now
    private let startAndWait = Machine.Action(start: true, wait: true)
    private let waitOnly = Machine.Action(start: false, wait: true)
    private let nothing = Machine.Action(start: false, wait: false)

    /// The actions of `requests` made in turn.
    private func actions(_ machine: inout Machine, _ requests: [Machine.Request]) -> [Machine.Action] {
        requests.map { machine.request($0) }
    }

    @Test func unknownKidsJoinTheFetchInFlightAndStartOneAtMostEveryInterval() {
        var machine = Machine(unknownKeyInterval: .seconds(10))
        // Concurrent requests wait for the first one's fetch rather than being refused.
        let concurrent = actions(
            &machine, [.unknownKey(start), .unknownKey(start + .milliseconds(5)), .unknownKey(start + .milliseconds(9))])
        #expect(concurrent == [startAndWait, waitOnly, waitOnly])
        let followed = machine.fetchEnded(cancelled: false)
        #expect(!followed)
        // With none in flight: no new fetch within the interval, one after it.
        let later = actions(&machine, [.unknownKey(start + .seconds(9)), .unknownKey(start + .seconds(10))])
        #expect(later == [nothing, startAndWait])
    }

    @Test func anUnknownKidJoinsAScheduledFetchWithoutUsingItsAllowance() {
        var machine = Machine(unknownKeyInterval: .seconds(10))
        #expect(actions(&machine, [.scheduled, .unknownKey(start)]) == [startAndWait, waitOnly])
        let followed = machine.fetchEnded(cancelled: false)
        #expect(!followed)
        #expect(actions(&machine, [.unknownKey(start + .seconds(1))]) == [startAndWait])
    }

    @Test func aSIGHUPDuringAFetchAsksForOneMoreAfterItAndDoesNotWait() {
        var machine = Machine(unknownKeyInterval: .seconds(10))
        let hangups = actions(&machine, [.background, .background, .background, .scheduled])
        #expect(hangups == [Machine.Action(start: true, wait: false), nothing, nothing, waitOnly])
        let followed = machine.fetchEnded(cancelled: false)
        #expect(followed, "one more, for the SIGHUPs")
        #expect(machine.fetching)
        let followedAgain = machine.fetchEnded(cancelled: false)
        #expect(!followedAgain, "only one")
        #expect(!machine.fetching)
    }

    @Test func afterStopNothingStartsOrWaits() {
        var machine = Machine(unknownKeyInterval: .seconds(10))
        #expect(actions(&machine, [.background, .background]) == [Machine.Action(start: true, wait: false), nothing])
        let followed = machine.fetchEnded(cancelled: true)
        #expect(!followed, "a cancelled fetch is not followed")
        machine.stop()
        #expect(actions(&machine, [.scheduled, .unknownKey(start), .background]) == [nothing, nothing, nothing])
    }
}
