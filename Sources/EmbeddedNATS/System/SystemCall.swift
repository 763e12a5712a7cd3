#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A POSIX call that failed: the function's name and `errno`.
package struct SystemCallError: Error, Equatable, CustomStringConvertible {
    /// The C function that failed, e.g. `connect`.
    package let function: String
    /// The `errno` it left (or, for `posix_spawn`-style functions, the code it returned).
    package let code: Int32

    package var description: String { "\(function) failed: \(String(cString: strerror(code))) (errno \(code))" }
}

/// Calls `body`, a POSIX function that returns -1 and sets `errno` on failure, until it is not
/// interrupted (`EINTR`); returns its result or throws ``SystemCallError`` naming `function`.
///
/// Every POSIX call of this module goes through here (as swift-nio's `syscall(blocking:where:_:)`
/// in `NIOPosix/System.swift`), so none forgets `EINTR` and every failure says which call failed.
///
/// - Parameter retryingInterrupts: false for a call that must not be repeated after `EINTR`:
///   an interrupted `connect` goes on in the background, and calling it again fails with
///   `EALREADY`; the interruption is then thrown like any other failure.
@inline(__always)
@discardableResult
func syscall<Result: FixedWidthInteger>(
    _ function: String, retryingInterrupts: Bool = true, _ body: () -> Result
) throws(SystemCallError) -> Result {
    while true {
        let result = body()
        guard result == -1 else { return result }
        let code = errno
        if code == EINTR && retryingInterrupts { continue }
        throw SystemCallError(function: function, code: code)
    }
}

/// Calls `body`, a POSIX function that returns 0 or an error code (the `posix_spawn` family),
/// until it is not interrupted; throws ``SystemCallError`` naming `function` on failure.
@inline(__always)
func syscall(returningErrorCode function: String, _ body: () -> Int32) throws(SystemCallError) {
    while true {
        let code = body()
        if code == 0 { return }
        if code == EINTR { continue }
        throw SystemCallError(function: function, code: code)
    }
}
