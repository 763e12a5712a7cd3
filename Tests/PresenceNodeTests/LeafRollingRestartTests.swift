import Foundation
import NIOConcurrencyHelpers
import Testing

extension HeavyProcessSuites {
    /// A rolling restart of two leaves behind a round-robin client (issue 27): each leaf in
    /// turn stopped with SIGTERM and started again on its port, while writers go round-robin
    /// over both and, as a load balancer does for an idempotent request (nginx's
    /// `proxy_next_upstream error`, Envoy's `retry_on: reset,connect-failure`), send a request
    /// the other way when a leaf refuses the connection or resets it before any answer (the
    /// kernel resets connections still in the accept queue when the listener closes, and a
    /// request that crosses the close of an idle keep-alive connection meets a reset; a request
    /// the node had read is answered, which `GracefulDrainTests` checks). Every write is
    /// answered 2xx.
    @Suite(.temporaryFiles, .serialized, .timeLimit(.minutes(3)))
    struct LeafRollingRestartTests {
        /// What the round-robin writers saw.
        final class Answers: Sendable {
            private let box = NIOLockedValueBox((acknowledged: [String](), failures: [String]()))
            private let stopped = NIOLockedValueBox(false)
            var acknowledged: [String] { box.withLockedValue { $0.acknowledged } }
            var failures: [String] { box.withLockedValue { $0.failures } }
            func stop() { stopped.withLockedValue { $0 = true } }

            /// Resets seen before an answer, each then sent to the other leaf.
            var resets: Int { resetCount.withLockedValue { $0 } }
            private let resetCount = NIOLockedValueBox(0)

            /// PUTs `<prefix>-N` round-robin over `ports`, the other port when one refuses to
            /// connect or resets the connection before answering.
            func write(over ports: [Int], prefix: String, token: String) async {
                var index = 0
                while !stopped.withLockedValue({ $0 }) {
                    let user = "\(prefix)-\(index)"
                    var outcome = "no leaf accepted the connection"
                    for attempt in 0..<ports.count {
                        let port = ports[(index + attempt) % ports.count]
                        do {
                            let (status, _) = try await HTTP.request(
                                "PUT", port: port, path: "/api/v2/presence/\(user)",
                                headers: ["Authorization": "Bearer \(token)"], body: #"{"status":"online","message":"\#(user)"}"#)
                            outcome = (200..<300).contains(status) ? "" : "HTTP \(status) from \(port)"
                            break
                        } catch let error as URLError where error.code == .cannotConnectToHost {
                            continue  // refused: the balancer sends it to the other leaf
                        } catch let error as URLError where error.code == .networkConnectionLost {
                            resetCount.withLockedValue { $0 += 1 }
                            continue  // reset before an answer: so does it, the PUT being idempotent
                        } catch {
                            outcome = "\(port): \(error)"  // accepted, then no answer
                            break
                        }
                    }
                    index += 1
                    box.withLockedValue { $0.failures.append(contentsOf: outcome.isEmpty ? [] : [outcome]) }
                    if outcome.isEmpty { box.withLockedValue { $0.acknowledged.append(user) } }
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
        }

        @Test func aRollingRestartOfTwoLeavesAnswersEveryAcceptedWrite() async throws {
            let topology = try await Topology.startCenter()
            let base = FreePort.consecutive(2)
            let ports = [base, base + 1]
            var leaves = try ports.enumerated().map { try topology.startLeaf(name: "leaf-\($0.offset + 1)", httpPort: $0.element) }
            for leaf in leaves { try await leaf.waitUntilReady() }
            let token = try await TestNode.token("root", scopes: ["presence:admin"])
            let answers = (0..<4).map { _ in Answers() }
            let writing = Task {
                await withTaskGroup(of: Void.self) { group in
                    for (index, writer) in answers.enumerated() {
                        group.addTask { await writer.write(over: ports, prefix: "rr-\(index)", token: token) }
                    }
                }
            }
            try await Task.sleep(for: .seconds(1))
            for index in leaves.indices {
                await leaves[index].stop()
                leaves[index] = try topology.startLeaf(name: "leaf-\(index + 1)", httpPort: ports[index])
                try await leaves[index].waitUntilReady()
            }
            try await Task.sleep(for: .seconds(1))
            for writer in answers { writer.stop() }
            await writing.value

            let acknowledged = answers.flatMap(\.acknowledged)
            let failures = answers.flatMap(\.failures)
            let resets = answers.map(\.resets).reduce(0, +)
            print("ROLLING LEAVES writes=\(acknowledged.count + failures.count) non_2xx=\(failures.count) resets_sent_again=\(resets)")
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            #expect(acknowledged.count > 100)
            for user in acknowledged.shuffled().prefix(200) {
                let (status, body) = try await topology.center.get("/api/v2/presence/\(user)")
                #expect(status == 200 && body["message"] as? String == user, "\(user)")
            }
            for leaf in leaves { await leaf.stop() }
            await topology.center.stop()
        }
    }
}
