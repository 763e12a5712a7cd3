import NIOCore

/// A connection's event loop as the task executor of the task that serves it.
///
/// Hummingbird serves each connection in a task of Swift's cooperative pool, so every request
/// crossed threads twice: the event loop read it and woke a pool thread, and the pool thread
/// handed the answer back to the event loop to write. On a small machine those hand-overs
/// (futex wake-ups and context switches) cost more than the request's own work. Preferring the
/// channel's own event loop keeps the whole request on one thread: the request parts reach the
/// handler, and the answer reaches the socket, without a wake-up. Work that must not run
/// there already has its own threads (nats.c's blocking calls, ``BlockingCalls``).
final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop that runs the jobs.
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
