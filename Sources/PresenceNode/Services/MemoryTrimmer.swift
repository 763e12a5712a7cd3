#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOPosix
import PresenceCore
import ServiceLifecycle

/// Watches the number of open streams and, when ``MemoryTrimPolicy`` says so, gives the
/// memory glibc keeps after a flood back to the system (`malloc_trim(0)`, on NIO's thread
/// pool: it walks every arena). Does nothing where the C library has no `malloc_trim`.
struct MemoryTrimmer: Service {
    let hub: PresenceChangeHub
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var policy = MemoryTrimPolicy()
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                if policy.observe(openStreams: hub.subscriberCount) { try await trim() }
            }
        }
    }

    private func trim() async throws {
        guard let mallocTrim = Self.mallocTrim else { return }
        let released = try await NIOThreadPool.singleton.runIfActive { mallocTrim(0) }
        logger.debug("gave freed memory back to the system", metadata: ["released": "\(released != 0)"])
    }

    private typealias MallocTrim = @convention(c) (Int) -> Int32

    /// glibc's `malloc_trim`, looked up at run time: Swift's Glibc module does not export
    /// `malloc.h`, and other C libraries (musl) do not have it.
    private static let mallocTrim: MallocTrim? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: MallocTrim.self)
        #else
        return nil
        #endif
    }()
}
