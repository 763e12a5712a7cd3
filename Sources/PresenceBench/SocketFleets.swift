import NIOCore
import NIOPosix

/// The bench sockets of one process, spread over `threads` event loops (socket `n` on loop
/// `n % threads`), each loop's share a ``SocketFleet``. Its async methods run a step on every
/// fleet and wait for all of them.
struct SocketFleets: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let fleets: [NIOLoopBound<SocketFleet>]

    private init(group: MultiThreadedEventLoopGroup, fleets: [NIOLoopBound<SocketFleet>]) {
        self.group = group
        self.fleets = fleets
    }

    static func make(settings: SocketClientSettings, threads: Int) async throws -> SocketFleets {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        var fleets: [NIOLoopBound<SocketFleet>] = []
        for (index, loop) in group.makeIterator().enumerated() {
            let seed = UInt32(truncatingIfNeeded: 0x9E37_79B9 &* (index + 1))
            fleets.append(
                try await loop.submit {
                    NIOLoopBound(SocketFleet(eventLoop: loop, settings: settings, seed: seed), eventLoop: loop)
                }.get())
        }
        return SocketFleets(group: group, fleets: fleets)
    }

    /// Runs `body` on every fleet's loop; the results in fleet order.
    func each<Value: Sendable>(_ body: @escaping @Sendable (SocketFleet) -> Value) async throws -> [Value] {
        var values: [Value] = []
        for fleet in fleets {
            values.append(try await fleet.eventLoop.submit { body(fleet.value) }.get())
        }
        return values
    }

    /// Like ``each(_:)`` for a step that completes later; waits for every fleet's.
    func eachUntilDone(_ body: @escaping @Sendable (SocketFleet) -> EventLoopFuture<Void>) async throws {
        let futures = fleets.map { fleet in fleet.eventLoop.flatSubmit { body(fleet.value) } }
        for future in futures { try await future.get() }
    }

    /// Connects sockets `numbers` (each fleet its share), at most `window` in handshake at once in all.
    func connect(_ numbers: [Int], window: Int) async throws {
        let count = fleets.count
        let start = NIODeadline.now()
        let shares = (0..<count).map { lane in numbers.filter { $0 % count == lane } }
        let perFleet = max(1, window / count)
        let futures = fleets.enumerated().map { index, fleet in
            let share = shares[index]
            return fleet.eventLoop.flatSubmit { fleet.value.connect(share, window: perFleet, start: start) }
        }
        for future in futures { try await future.get() }
    }

    func subscribe(window: Int) async throws {
        let perFleet = max(1, window / fleets.count)
        try await eachUntilDone { $0.subscribe(window: perFleet) }
    }

    func tally() async throws -> SocketTally {
        var merged = SocketTally()
        for tally in try await each({ $0.currentTally() }) { merged.merge(tally) }
        return merged
    }

    func progress() async throws -> (started: Int, welcomed: Int, failed: Int, subscribed: Int) {
        var total = (started: 0, welcomed: 0, failed: 0, subscribed: 0)
        for fleet in try await each({ $0.progress() }) {
            total.started += fleet.started
            total.welcomed += fleet.welcomed
            total.failed += fleet.failed
            total.subscribed += fleet.subscribed
        }
        return total
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }
}
