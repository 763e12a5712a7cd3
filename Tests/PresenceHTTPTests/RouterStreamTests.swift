import Hummingbird
import HummingbirdTesting
import PresenceCore
import NIOConcurrencyHelpers
import Testing

@testable import PresenceHTTP

/// `GET /api/v2/presence/stream` through the router: its refusals, and a stream that ends
/// (its subscriber cut off at the first change) so its whole body can be read.
@Suite("Router: the stream")
struct RouterStreamTests {
    @Test func aStreamIsRefusedWithInvalidUsersOrTooMany() async throws {
        try await RouterFixture().test { (client: any TestClientProtocol) async throws in
            #expect(try await client.get("/api/v2/presence/stream?users=a,b%20c").errorCode() == "invalid_user_id")
            #expect(try await client.get("/api/v2/presence/stream").errorCode() == "bad_request")
            let tooMany = (0...1000).map { "u\($0)" }.joined(separator: ",")
            #expect(try await client.get("/api/v2/presence/stream?users=\(tooMany)").errorCode() == "too_many_users")
        }
    }

    @Test func aNodeAtItsStreamCapAnswers503WithRetryAfter() async throws {
        try await RouterFixture(maxStreams: 0).test { client in
            let refused = try await client.get("/api/v2/presence/stream?users=a")
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.errorCode() == "unavailable")
            #expect(refused.headers[.retryAfter] == "5")
        }
    }

    @Test func aStreamSendsTheSnapshotThenEndsWithAnErrorEventWhenCutOff() async throws {
        // A budget of one byte per stream: the first change cuts the subscriber off.
        let fixture = RouterFixture(streamMemory: StreamMemoryBudget(maxPerStream: 1, slack: 0))
        let admin = try await RouterFixture.admin()
        let reads = CountingRepository(base: fixture.repository)
        try await fixture.test(over: reads) { client in
            let first = try await client.put("ann", #"{"status":"online","message":"a \"quoted\" word"}"#, headers: admin)
            #expect(first.status == .ok)
            async let streamed = client.get("/api/v2/presence/stream?users=ann,ben")
            // Both users of the snapshot read: the change below comes after it.
            try await waitUntil { reads.count == 2 }
            #expect(try await client.put("ben", #"{"status":"away"}"#, headers: admin).status == .ok)
            let response = try await streamed
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream; charset=utf-8")
            let events = response.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            try #require(events.count == 3, "\(response.text)")
            #expect(events[0] == "retry: 2000")
            #expect(events[1].hasPrefix("id: 1\nevent: presence\ndata: {\"user_id\":\"ann\""))
            #expect(events[1].contains(#""message":"a \"quoted\" word""#))
            #expect(events[2].hasPrefix("event: error\ndata: "))
            #expect(events[2].contains(#""code":"slow_consumer""#))
            #expect(fixture.changes.subscriberCount == 0)
        }
    }

    @Test func aStoreFailureDuringTheSnapshotEndsTheStreamWithItsError() async throws {
        let failure = PresenceError(.unavailable, "the store \"hub\" cannot be reached", retryAfter: 1)
        try await RouterFixture().test(over: FailingRepository(error: failure)) { client in
            let response = try await client.get("/api/v2/presence/stream?users=ann")
            #expect(response.status == .ok)
            #expect(response.text == "retry: 2000\n\nevent: error\ndata: {\"error\":{\"code\":\"unavailable\",\"message\":\"the store \\\"hub\\\" cannot be reached\"}}\n\n")
        }
    }

    /// Polls `condition` every few milliseconds, for 5 s at most.
    private func waitUntil(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("the condition did not become true within 5 s", sourceLocation: sourceLocation)
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// A repository that counts the reads it forwards to `base`.
final class CountingRepository<Base: PresenceRepository>: PresenceRepository {
    let base: Base
    private let reads = NIOLockedValueBox(0)

    init(base: Base) { self.base = base }

    var count: Int { reads.withLockedValue { $0 } }

    func presence(of user: UserID) async throws(PresenceError) -> StoredPresence? {
        reads.withLockedValue { $0 += 1 }
        return try await base.presence(of: user)
    }

    func apply(_ change: PresenceChange, to user: UserID, ifMatch: RevisionMatch?) async throws(PresenceError)
        -> StoredPresence
    { try await base.apply(change, to: user, ifMatch: ifMatch) }

    func readiness() -> Readiness { base.readiness() }
}
