import Testing

@testable import EmbeddedNATS

/// Every transition of the nats-server supervisor, without any process.
struct SupervisorStateMachineTests {
    typealias Machine = SupervisorStateMachine

    /// A machine whose first child (pid 10) is spawned and ready.
    func running() -> Machine {
        var machine = Machine()
        #expect(machine.startRequested() == .spawn)
        #expect(machine.spawned(pid: 10) == .none)
        machine.childReady()
        #expect(machine.phase == .running(pid: 10))
        return machine
    }

    @Test func startSpawnsOnceAndIsReadyWhenTheChildSaysSo() {
        var machine = Machine()
        #expect(machine.startRequested() == .spawn)
        #expect(machine.startRequested() == nil, "a second start is refused")
        #expect(machine.startProgress == .waiting)
        #expect(machine.pid == nil)
        #expect(machine.spawned(pid: 10) == .none)
        #expect(machine.phase == .starting(pid: 10))
        #expect(machine.startProgress == .waiting)
        machine.childReady()
        #expect(machine.startProgress == .ready)
        #expect(machine.pid == 10)
        #expect(machine.startRequested() == nil)
    }

    @Test func aFirstChildThatExitsBeforeReadyFailsTheStartWithoutRetry() {
        var machine = Machine()
        _ = machine.startRequested()
        _ = machine.spawned(pid: 10)
        #expect(machine.childExited(ranFor: .milliseconds(5)) == .finish(.exitedBeforeReady))
        #expect(machine.startProgress == .failed(.exitedBeforeReady))
        #expect(machine.isFinished && machine.pid == nil && machine.restarts == 0)
        #expect(machine.stopRequested() == .none, "a stop after the end has nothing to do")
    }

    @Test func aSpawnThatFailsEndsSupervision() {
        var machine = Machine()
        _ = machine.startRequested()
        #expect(machine.spawnFailed() == .finish(.spawnFailed))
        #expect(machine.startProgress == .failed(.spawnFailed))
        #expect(machine.isFinished)
    }

    @Test func anUnexpectedExitRestartsAfterABackoffThatDoublesUpToFiveSeconds() {
        var machine = running()
        var pauses: [Duration] = []
        for pid in Int32(11)...Int32(17) {
            guard case .spawnAfter(let pause) = machine.childExited(ranFor: .seconds(1)) else {
                Issue.record("an unexpected exit must pause, then spawn")
                return
            }
            pauses.append(pause)
            #expect(machine.phase == .backingOff(pause))
            #expect(machine.pid == nil)
            #expect(machine.backoffElapsed() == .spawn)
            #expect(machine.spawned(pid: pid) == .none)
            #expect(machine.phase == .running(pid: pid))
        }
        #expect(
            pauses == [
                .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(5), .seconds(5),
            ])
        #expect(machine.restarts == 7)
        #expect(machine.startProgress == .ready, "restarted children need not log ready again")
    }

    @Test func aChildThatRanLongEnoughResetsTheBackoff() {
        var machine = running()
        #expect(machine.childExited(ranFor: .seconds(1)) == .spawnAfter(.milliseconds(250)))
        _ = machine.backoffElapsed()
        _ = machine.spawned(pid: 11)
        #expect(machine.childExited(ranFor: .seconds(1)) == .spawnAfter(.milliseconds(500)))
        _ = machine.backoffElapsed()
        _ = machine.spawned(pid: 12)
        #expect(machine.childExited(ranFor: .seconds(31)) == .spawnAfter(.milliseconds(250)))
    }

    @Test func aRestartOnPurposeTerminatesAndSpawnsAtOnceWithoutCountingARestart() {
        var machine = running()
        #expect(machine.restartRequested() == .terminate(pid: 10))
        #expect(machine.phase == .restarting(pid: 10))
        #expect(machine.restartRequested() == .none, "one restart at a time")
        #expect(machine.childExited(ranFor: .seconds(1)) == .spawn)
        #expect(machine.restarts == 0)
        #expect(machine.spawned(pid: 11) == .none)
        #expect(machine.phase == .running(pid: 11))
    }

    @Test func aRestartIsOnlyForARunningChild() {
        var machine = Machine()
        #expect(machine.restartRequested() == .none)
        _ = machine.startRequested()
        _ = machine.spawned(pid: 10)
        #expect(machine.restartRequested() == .none, "not before it is ready")
        machine.childReady()
        _ = machine.childExited(ranFor: .seconds(1))
        #expect(machine.restartRequested() == .none, "not while backing off")
    }

    @Test func aStopInterruptsTheChildAndFinishesWhenItExits() {
        var machine = running()
        #expect(machine.stopRequested() == .interrupt(pid: 10))
        #expect(machine.phase == .stopping(pid: 10, wasReady: true))
        #expect(machine.stopRequested() == .none, "asked once")
        #expect(machine.childExited(ranFor: .seconds(1)) == .finish(.stopped))
        #expect(machine.isFinished && machine.restarts == 0)
        #expect(machine.startProgress == .ready)
    }

    @Test func aChildThatOutlivesItsGracePeriodIsKilled() {
        var machine = running()
        _ = machine.stopRequested()
        #expect(machine.gracePeriodElapsed(pid: 10) == .kill(pid: 10))
        #expect(machine.gracePeriodElapsed(pid: 9) == .none, "another child is not touched")
        _ = machine.childExited(ranFor: .seconds(1))
        #expect(machine.gracePeriodElapsed(pid: 10) == .none, "a child gone in time is not killed")
    }

    @Test func aChildRestartedInTimeIsNotKilledByTheFormerGracePeriod() {
        var machine = running()
        _ = machine.restartRequested()
        _ = machine.childExited(ranFor: .seconds(1))
        _ = machine.spawned(pid: 11)
        #expect(machine.gracePeriodElapsed(pid: 10) == .none)
        #expect(machine.restartRequested() == .terminate(pid: 11))
        #expect(machine.gracePeriodElapsed(pid: 11) == .kill(pid: 11))
    }

    @Test func aStopDuringARestartInterruptsTheChildAndDoesNotSpawnAgain() {
        var machine = running()
        _ = machine.restartRequested()
        #expect(machine.stopRequested() == .interrupt(pid: 10))
        #expect(machine.childExited(ranFor: .seconds(1)) == .finish(.stopped))
    }

    @Test func aStopDuringTheBackoffFinishesWhenThePauseEnds() {
        var machine = running()
        _ = machine.childExited(ranFor: .seconds(1))
        #expect(machine.stopRequested() == .none)
        #expect(machine.backoffElapsed() == .finish(.stopped))
        #expect(machine.isFinished)
    }

    @Test func aStopWhileAChildIsBeingSpawnedInterruptsItOnceSpawned() {
        var machine = running()
        _ = machine.childExited(ranFor: .seconds(1))
        _ = machine.backoffElapsed()
        #expect(machine.stopRequested() == .none)
        #expect(machine.spawned(pid: 11) == .interrupt(pid: 11))
        #expect(machine.childExited(ranFor: .milliseconds(1)) == .finish(.stopped))
    }

    @Test func aStopWhileASpawnFailsEndsAsStopped() {
        var machine = running()
        _ = machine.childExited(ranFor: .seconds(1))
        _ = machine.backoffElapsed()
        _ = machine.stopRequested()
        #expect(machine.spawnFailed() == .finish(.stopped))
    }

    @Test func aStopBeforeTheFirstChildWasReadyFailsTheStart() {
        var machine = Machine()
        _ = machine.startRequested()
        #expect(machine.stopRequested() == .none, "no child yet")
        #expect(machine.spawned(pid: 10) == .interrupt(pid: 10))
        machine.childReady()
        #expect(machine.startProgress == .waiting, "ready on its way out does not count")
        #expect(machine.childExited(ranFor: .milliseconds(5)) == .finish(.exitedBeforeReady))
        #expect(machine.startProgress == .failed(.exitedBeforeReady))
    }

    @Test func aStopBeforeStartFinishesAtOnce() {
        var machine = Machine()
        #expect(machine.stopRequested() == .finish(.stopped))
        #expect(machine.isFinished)
        #expect(machine.startRequested() == nil, "a stopped supervisor does not start")
    }
}
