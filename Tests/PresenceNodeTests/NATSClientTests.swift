import EmbeddedNATS
import Foundation
import Logging
import NATSClient
import NIOConcurrencyHelpers
import Testing

/// The NATS client's async API against a real nats-server started by our supervisor on
/// OS-assigned ports: blocking nats.c work stays off the caller's task, a watcher delivers on
/// a thread of its own and ends when stopped or cancelled.
@Suite("NATS client", .serialized, .temporaryFiles, .timeLimit(.minutes(2)))
struct NATSClientTests {
    /// Runs `body` with a bucket of its own on a fresh center server.
    private func withBucket(_ body: (NATSConnection, KeyValueBucket) async throws -> Void) async throws {
        var configuration = EmbeddedNATSConfiguration(
            serverName: "client-test", dataDirectory: TemporaryDirectory.make(), mode: .center(leafnodePort: 0))
        configuration.clientPort = 0
        var logger = Logger(label: "client-test")
        logger.logLevel = .critical
        let supervisor = NATSServerSupervisor(configuration: configuration, logger: logger)
        try await supervisor.start()
        do {
            let connection = try await NATSConnection.connect(
                options: NATSConnectionOptions(urls: [supervisor.authenticatedClientURL], name: "client-test"))
            do {
                // A client with the node's credential lands in the presence account, with JetStream.
                let bucket = try await connection.jetStream(domain: nil, timeout: .seconds(5))
                    .keyValue(KeyValueConfiguration(bucket: "client-test"))
                try await body(connection, bucket)
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        } catch {
            await supervisor.stop()
            throw error
        }
        await supervisor.stop()
    }

    @Test func getAndCompareAndSetPutRoundTrip() async throws {
        try await withBucket { _, bucket in
            #expect(try await bucket.get("k") == nil)
            let first = try await bucket.put("k", value: Array("one".utf8), expecting: .noValue)
            let entry = try #require(try await bucket.get("k"))
            #expect(entry.key == "k" && entry.value == Array("one".utf8))
            #expect(entry.revision == first && entry.operation == .put)
            let conflict = await #expect(throws: NATSError.self) {
                try await bucket.put("k", value: Array("two".utf8), expecting: .revision(first + 10))
            }
            #expect(conflict?.isWrongLastSequence == true)
            let second = try await bucket.put("k", value: Array("two".utf8), expecting: .revision(first))
            #expect(second > first)
            #expect(try await bucket.state(timeout: .seconds(2)).lastSequence == second)
        }
    }

    /// A scan reads past the 256 messages of one fetch, in order, from a start time or a
    /// sequence on, and stops when its visitor says so.
    @Test func aScanReadsEveryMessageAcrossFetchesAndStopsWhenAsked() async throws {
        try await withBucket { _, bucket in
            let js = bucket.jetStream
            #expect(try await js.addStream(StreamConfiguration(name: "scan-test", subjects: ["scan.>"], replicas: 1, maxAge: .zero, appendOnly: false)))
            for index in 0..<600 {
                _ = try await js.publish("scan.\(index % 3)", payload: Array(String(index).utf8))
            }
            let all = try await js.scan(in: "scan-test", subject: "scan.>", from: .first, into: [Int]()) {
                seen, message in
                seen.append(Int(String(decoding: message.payload, as: UTF8.self)) ?? -1)
                return true
            }
            #expect(all == Array(0..<600))
            let oneSubject = try await js.scan(in: "scan-test", subject: "scan.1", from: .first, into: 0) { count, _ in
                count += 1
                return true
            }
            #expect(oneSubject == 200)
            let stopped = try await js.scan(in: "scan-test", subject: "scan.>", from: .first, into: 0) { count, _ in
                count += 1
                return count < 300
            }
            #expect(stopped == 300)
            let future = Int64(Date().timeIntervalSince1970 + 3600) * 1_000_000_000
            let none = try await js.scan(in: "scan-test", subject: "scan.>", from: .time(nanoseconds: future), into: 0) { count, _ in
                count += 1
                return true
            }
            #expect(none == 0)
            // From a sequence on: the 600 were stored as 1…600.
            let tail = try await js.scan(in: "scan-test", subject: "scan.>", from: .sequence(401), into: [Int]()) {
                seen, message in
                seen.append(Int(message.sequence))
                return true
            }
            #expect(tail == Array(401...600))
        }
    }

    @Test func aWatcherDeliversOnItsOwnThreadAndEndsWhenStopped() async throws {
        try await withBucket { _, bucket in
            _ = try await bucket.put("a", value: Array("1".utf8), expecting: .noValue)
            _ = try await bucket.put("b", value: Array("2".utf8), expecting: .noValue)
            let watcher = try await bucket.watchAll(timeout: .seconds(5))
            let seen = NIOLockedValueBox<[KeyValueWatcher.Event]>([])
            let threads = NIOLockedValueBox<Set<String>>([])
            let inTask = NIOLockedValueBox(false)
            async let delivery: Void = watcher.deliver(idleTimeout: .milliseconds(100)) { event in
                threads.withLockedValue { _ = $0.insert("\(pthread_self())") }
                if withUnsafeCurrentTask(body: { $0 != nil }) { inTask.withLockedValue { $0 = true } }
                guard event != .timeout else { return true }
                seen.withLockedValue { $0.append(event) }
                return true
            }
            try await waitUntil { seen.withLockedValue { $0.count } == 3 }
            _ = try await bucket.put("c", value: Array("3".utf8), expecting: .noValue)
            try await waitUntil { seen.withLockedValue { $0.count } == 4 }
            watcher.stop()
            try await delivery
            let events = seen.withLockedValue { $0 }
            #expect(events.map(Self.key) == ["a", "b", "initial values (2)", "c"])
            #expect(threads.withLockedValue { $0.count } == 1, "events are handed over on one thread, in order")
            #expect(!inTask.withLockedValue { $0 }, "the handler runs on the watcher's own thread, outside Swift's pool")
        }
    }

    @Test func aWatcherEndsWhenItsHandlerSaysSoOrItsTaskIsCancelled() async throws {
        try await withBucket { _, bucket in
            _ = try await bucket.put("a", value: Array("1".utf8), expecting: .noValue)
            let first = try await bucket.watchAll(timeout: .seconds(5))
            let count = NIOLockedValueBox(0)
            try await first.deliver(idleTimeout: .seconds(10)) { _ in
                count.withLockedValue { $0 += 1 }
                return false
            }
            #expect(count.withLockedValue { $0 } == 1, "nothing is delivered after the handler said stop")

            let second = try await bucket.watchAll(timeout: .seconds(5))
            let delivering = Task {
                try await second.deliver(idleTimeout: .seconds(10)) { _ in true }
            }
            try await Task.sleep(for: .milliseconds(200))
            delivering.cancel()
            let started = ContinuousClock.now
            try await delivering.value
            #expect(ContinuousClock.now - started < .seconds(5).scaled, "cancellation stops the watcher at once")
        }
    }

    private static func key(_ event: KeyValueWatcher.Event) -> String {
        switch event {
        case .entry(let entry): entry.key
        case .initialValuesDone(let count): "initial values (\(count))"
        case .timeout: "timeout"
        }
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
