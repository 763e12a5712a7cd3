import Foundation
import Testing

@testable import EmbeddedNATS

/// The one POSIX wrapper of EmbeddedNATS: retries `EINTR`, names the failed function.
struct SystemCallTests {
    @Test func anInterruptedCallIsRetriedUntilItCompletes() throws {
        var calls = 0
        let result = try syscall("read") { () -> Int in
            calls += 1
            guard calls == 3 else {
                errno = EINTR
                return -1
            }
            return 42
        }
        #expect(result == 42)
        #expect(calls == 3)
    }

    @Test func aFailureThrowsTheFunctionNameAndErrno() {
        let error = #expect(throws: SystemCallError.self) { try syscall("close") { close(-1) } }
        #expect(error == SystemCallError(function: "close", code: EBADF))
        #expect(error?.description.hasPrefix("close failed: ") == true)
    }

    @Test func anErrorCodeReturnedDirectlyIsThrownAndEINTRRetried() {
        var calls = 0
        #expect(throws: Never.self) {
            try syscall(returningErrorCode: "posix_spawnp") { () -> Int32 in
                calls += 1
                return calls < 2 ? EINTR : 0
            }
        }
        #expect(calls == 2)
        let error = #expect(throws: SystemCallError.self) { try syscall(returningErrorCode: "posix_spawnp") { ENOENT } }
        #expect(error == SystemCallError(function: "posix_spawnp", code: ENOENT))
    }

    @Test func aLoopbackConnectionToAClosedPortFailsInConnect() throws {
        // A port the OS just gave a listener that is closed again: nothing listens there.
        let port = try { () throws -> Int in try ListeningSocket().port }()
        let error = #expect(throws: SystemCallError.self) { try Loopback.connect(port: port) }
        #expect(error?.function == "connect")
        #expect(error?.code == ECONNREFUSED)
    }
}
