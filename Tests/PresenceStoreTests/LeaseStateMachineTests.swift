import Testing

@testable import PresenceStore

/// The sweeper lease's rules, without any I/O: who writes, when another center takes over.
struct LeaseStateMachineTests {
    typealias Machine = LeaseStateMachine
    let takeOver = Duration.seconds(6)

    @Test func aMissingLeaseIsCreatedAndHeldOnceTheWriteIsAcknowledged() {
        var machine = Machine(holder: "c1", takeOverAfter: takeOver)
        #expect(machine.observed(.absent, at: .zero) == .create)
        #expect(!machine.isHeld, "held only once written")
        machine.written(revision: 1)
        #expect(machine.isHeld)
        #expect(machine.observed(.held(by: "c1", revision: 1), at: .seconds(2)) == .write(expecting: 1))
        machine.written(revision: 2)
        #expect(machine.isHeld)
    }

    @Test func anotherCentersLeaseIsTakenOverOnlyAfterItStaysUnrefreshed() {
        var machine = Machine(holder: "c2", takeOverAfter: takeOver)
        #expect(machine.observed(.held(by: "c1", revision: 7), at: .seconds(0)) == .none)
        #expect(machine.observed(.held(by: "c1", revision: 7), at: .seconds(5)) == .none)
        // Refreshed: the wait starts again from this revision.
        #expect(machine.observed(.held(by: "c1", revision: 8), at: .seconds(6)) == .none)
        #expect(machine.observed(.held(by: "c1", revision: 8), at: .seconds(11)) == .none)
        #expect(machine.observed(.held(by: "c1", revision: 8), at: .seconds(12)) == .write(expecting: 8))
        #expect(!machine.isHeld)
        machine.written(revision: 9)
        #expect(machine.isHeld)
    }

    @Test func aHolderThatFindsAnotherRevisionOrFailsToWriteHoldsItNoMore() {
        var machine = Machine(holder: "c1", takeOverAfter: takeOver)
        _ = machine.observed(.absent, at: .zero)
        machine.written(revision: 3)
        #expect(machine.observed(.held(by: "c2", revision: 4), at: .seconds(2)) == .none)
        #expect(!machine.isHeld, "c2 took it over")

        var failing = Machine(holder: "c1", takeOverAfter: takeOver)
        _ = failing.observed(.absent, at: .zero)
        failing.written(revision: 3)
        #expect(failing.observed(.held(by: "c1", revision: 3), at: .seconds(2)) == .write(expecting: 3))
        failing.writeFailed()
        #expect(!failing.isHeld)
    }

    @Test func aRestartedCenterTakesBackTheLeaseWithItsOwnName() {
        var machine = Machine(holder: "c1", takeOverAfter: takeOver)
        #expect(machine.observed(.held(by: "c1", revision: 40), at: .zero) == .write(expecting: 40))
    }

    @Test func aLeaseWithTheOwnNameButAnotherRevisionIsAnotherWriters() {
        var machine = Machine(holder: "c1", takeOverAfter: takeOver)
        _ = machine.observed(.absent, at: .zero)
        machine.written(revision: 3)
        // A second node with the same id wrote: not ours; wait as for anyone else's.
        #expect(machine.observed(.held(by: "c1", revision: 5), at: .seconds(2)) == .none)
        #expect(!machine.isHeld)
    }
}
