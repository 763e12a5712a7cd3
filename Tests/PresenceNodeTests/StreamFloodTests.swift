import Foundation
import Testing

/// Hardening item 8: clients that open streams and never read must not keep the node's
/// memory. The real `presence` binary, a seeded set of users, writes flowing while 1,000
/// stalled streams are open, then the streams close: resident memory must come back near
/// where it started and the node must still answer.
extension HeavyProcessSuites {
/// Heavy: 1,000 streams and their memory, measured while nothing else floods the machine.
@Suite("Stream memory after a flood", .serialized, .temporaryFiles, .timeLimit(.minutes(5)))
struct StreamFloodTests {
    static let users = (0..<200).map { "flood\($0)" }
    /// Under ThreadSanitizer the memory bound is not checked (its allocator keeps what is
    /// freed) and every process is several times slower: a smaller flood checks the rest.
    static let streams = TestRun.underThreadSanitizer ? 250 : 1000
    static let mebibyte = 1 << 20
    /// Below what the snapshot and three rounds of writes make (about 240 KB a stream).
    static let streamBound = 65_536

    private func writeEveryUser(_ service: ServiceProcess, round: Int) async throws {
        let token = try await TestNode.token("root", scopes: ["presence:admin"])
        let message = "round \(round) " + String(repeating: "m", count: 180)
        for user in Self.users {
            let (status, _) = try await HTTP.request(
                "PUT", port: service.httpPort, path: "/api/v2/presence/\(user)", headers: ["Authorization": "Bearer \(token)"],
                body: #"{"status":"busy","message":"\#(message)"}"#)
            try #require(status == 200)
        }
    }

    @Test func stalledStreamsAreCutOffAndTheirMemoryIsReturned() async throws {
        let directory = TemporaryDirectory.make()
        let environment = ServiceProcess.testEnvironment([
            "PRESENCE_RATE_LIMIT_WRITES_PER_SECOND": "100000", "PRESENCE_RATE_LIMIT_WRITE_BURST": "100000",
            "PRESENCE_STREAM_MAX_BUFFERED_BYTES": String(Self.streamBound),
            // Streams whose clients left are noticed at the next keepalive.
            "PRESENCE_STREAM_KEEPALIVE": "1",
        ])
        let service = try ServiceProcess.serve(dataDirectory: directory, environment: environment)
        try await service.waitUntilReady()
        let pid = service.process.processIdentifier
        let path = "/api/v2/presence/stream?users=" + Self.users.joined(separator: ",")

        try await writeEveryUser(service, round: 0)
        // A few streams that read normally, so one-off allocations (stream code paths, the
        // first connections) are part of the baseline.
        for _ in 0..<3 {
            let warm = try SSEClient(port: service.httpPort, path: path)
            #expect(await warm.wait { $0.presences.count == Self.users.count })
            warm.disconnect()
        }
        try await Task.sleep(for: .seconds(1))
        let baseline = try ProcessMemory.resident(pid)

        var stalled: [StalledStream] = []
        for _ in 0..<Self.streams {
            stalled.append(try #require(StalledStream.open(port: service.httpPort, path: path)))
        }
        // Every stream is subscribed before the writes start.
        let openBy = ContinuousClock.now + .seconds(60).scaled
        var opened = 0.0
        while ContinuousClock.now < openBy {
            opened = try await HTTP.metric("presence_streams_open", port: service.httpPort) ?? 0
            if opened >= Double(Self.streams) { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(opened >= Double(Self.streams))
        var peak = baseline
        // Writes flow while nobody reads: every stalled stream has events to queue.
        for round in 1...3 {
            try await writeEveryUser(service, round: round)
            peak = max(peak, try ProcessMemory.resident(pid))
        }
        try await Task.sleep(for: .seconds(1))
        peak = max(peak, try ProcessMemory.resident(pid))
        let overruns = try await HTTP.metric("presence_stream_overruns_total", port: service.httpPort) ?? 0

        for stream in stalled { stream.disconnect() }
        stalled.removeAll()
        // Closed connections are noticed at the next write at the latest (keepalive, 15 s).
        let closedBy = ContinuousClock.now + .seconds(40)
        var open = Double.infinity
        while ContinuousClock.now < closedBy {
            open = try await HTTP.metric("presence_streams_open", port: service.httpPort) ?? .infinity
            if open == 0 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(open == 0, "streams still open after their clients left")
        // Memory goes back to the system once the streams are gone (allow the trimmer a few rounds).
        let bound = baseline + 40 * Self.mebibyte
        var after = try ProcessMemory.resident(pid)
        let returnedBy = ContinuousClock.now + .seconds(20)
        while after > bound, ContinuousClock.now < returnedBy {
            try await Task.sleep(for: .milliseconds(250))
            after = try ProcessMemory.resident(pid)
        }
        print(
            "stream flood: \(Self.streams) stalled streams, RSS before \(baseline / Self.mebibyte) MiB, peak \(peak / Self.mebibyte) MiB, after \(after / Self.mebibyte) MiB; overruns \(Int(overruns))"
        )
        if !TestRun.underThreadSanitizer {
            #expect(after <= bound, "RSS \(after / Self.mebibyte) MiB after the flood, baseline \(baseline / Self.mebibyte) MiB")
        }
        #expect(overruns > 0, "stalled streams must be cut off as slow consumers")

        // The node still answers, and a new stream gets its snapshot.
        let (status, body) = try await service.get("/api/v2/presence/flood7")
        #expect(status == 200)
        #expect((body["message"] as? String)?.hasPrefix("round 3") == true)
        let fresh = try SSEClient(port: service.httpPort, path: path)
        #expect(await fresh.wait { $0.presences.count == Self.users.count })
        service.signal(SIGTERM)
        #expect(await service.waitForExit() == 0)
    }
}
}
