import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import PresenceStore

/// How the replica feed reacts to the hub probe: a hub that is gone costs a resync when it is
/// back; a hub that was only slow to answer keeps the running watcher (a resync would restart
/// the very load that made it slow).
@Suite("Hub reachability", .serialized, .temporaryFiles, .timeLimit(.minutes(2)))
struct HubReachabilityTests {
    static func resyncs(_ client: any TestClientProtocol) async throws -> Int {
        let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
        let line = text.split(separator: "\n").first { $0.hasPrefix("presence_watcher_resyncs_total") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Int(Double(String($0)) ?? -1) } ?? -1
    }

    static func waitFor(_ expected: Int, _ client: any TestClientProtocol) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(10)
        var seen = try await resyncs(client)
        while seen != expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            seen = try await resyncs(client)
        }
        return seen
    }

    static func waitUntilReachable(_ store: NATSPresenceStore) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !store.link.isHubReachable, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(store.link.isHubReachable, "the node's own probe reaches the hub again")
    }

    static func reportsUnreachable(_ action: BucketLink.Machine.Action, definitive: Bool) -> Bool {
        if case .reportUnreachable(definitive) = action { return true }
        return false
    }

    @Test func aSlowHubKeepsTheWatcherAndALostHubCostsAResync() async throws {
        try await TestNode.withNode { node, client in
            let store = node.store
            #expect(try await Self.resyncs(client) == 1)

            // A hub that does not answer three probes in a row, then answers the node's own
            // probe again (within half a second): the watcher is kept.
            // (The feed's answers, not a later read of its state: the node's own prober runs meanwhile.)
            var last = BucketLink.Machine.Action.none
            for _ in 0..<BucketLink.Machine.slowAnswersBeforeUnreachable {
                last = store.link.handle { $0.probeFailed(noResponders: false) }
            }
            #expect(Self.reportsUnreachable(last, definitive: false))
            try await Self.waitUntilReachable(store)
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await Self.resyncs(client) == 1)

            // A hub found gone ("no responders"): when the probe reaches it again, a resync.
            #expect(Self.reportsUnreachable(store.link.handle { $0.probeFailed(noResponders: true) }, definitive: true))
            try await Self.waitUntilReachable(store)
            #expect(try await Self.waitFor(2, client) == 2)
            try await TestNode.waitUntilReady(client)
        }
    }
}
