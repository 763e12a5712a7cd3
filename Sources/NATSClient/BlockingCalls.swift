import Foundation
import NIOPosix

/// Where the client runs nats.c's blocking calls (connect, requests, KV get, stream info,
/// watcher set-up): threads of its own, so that no caller can block Swift's cooperative pool
/// or an event loop by mistake (as sqlite-nio and swift-kafka-client do).
///
/// One pool for the process, started on first use and never shut down (like
/// `NIOThreadPool.singleton`): a call left running when its caller went away (a watcher set-up
/// that takes a minute while the hub is away) ends on its own. Sixteen threads, because every
/// blocking call holds one for a network round trip and a node serves many at once.
enum BlockingCalls {
    fileprivate static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    /// Runs `body` on the pool and returns its result.
    static func run<Result: Sendable>(_ body: @escaping @Sendable () throws(NATSError) -> Result) async throws(NATSError)
        -> Result
    {
        do {
            return try await pool.runIfActive { try body() }
        } catch let error as NATSError {
            throw error
        } catch {
            throw NATSError.poolUnavailable
        }
    }
}

extension BlockingCalls {
    /// Runs `body`, which may throw any error, on the pool.
    static func runThrowingAny(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await pool.runIfActive { try body() }
    }
}

extension BlockingCalls {
    /// Runs `body` on a thread of its own, for a call that may block for a long time (a watcher
    /// set-up waits up to a minute while the hub is away): it never holds one of the pool's
    /// threads, which reads, probes and connections need meanwhile.
    static func runOnOwnThread<Value: Sendable>(
        named name: String, _ body: @escaping @Sendable () throws(NATSError) -> Value
    ) async throws(NATSError) -> Value {
        let outcome: Result<Value, NATSError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                // Named from inside: on Linux a name set before start() does not reach the thread.
                Thread.current.name = name
                do throws(NATSError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.start()
        }
        return try outcome.get()
    }
}
