import Foundation
import NIOCore
import NIOWebSocket
import PresenceCore
import PresenceTestSupport
import Testing

@testable import PresenceHTTP

/// `GET /api/v2/connect` in this process (the node tests run it across processes): the hello,
/// the commands, the closes and what each does to the session.
@Suite("Socket endpoint", .serialized, .timeLimit(.minutes(2)))
struct SocketEndpointTests {
    @Test func aSessionLivesWithItsSocketAndItsCommandsAreAnswered() async throws {
        let fixture = try await SocketServerFixture()
        try await fixture.run { port in
            let alice = try await TestSocket.connect(port: port)
            let welcome = try #require(
                try await alice.hello(token: try await SocketServerFixture.token("alice"), session: "tab", extra: ["id": "h"]))
            #expect(welcome["id"] as? String == "h")
            #expect(try await fixture.status("alice") == "online")

            let bob = try await TestSocket.connect(port: port, headers: [("Authorization", "Bearer \(try await SocketServerFixture.token("bob"))")])
            _ = try #require(try await bob.hello(token: nil))
            try await alice.send(json: ["id": 1, "type": "subscribe", "users": ["bob", "nobody"]])
            #expect(try await alice.reply(to: 1)?["type"] as? String == "ok")
            #expect(try await alice.message { ($0["presence"] as? [String: Any])?["user_id"] as? String == "bob" } != nil)
            try await bob.send(json: ["id": 2, "type": "set", "status": "busy", "message": "call"])
            #expect(((try await bob.reply(to: 2))?["presence"] as? [String: Any])?["status"] as? String == "busy")
            #expect(try await alice.message { ($0["presence"] as? [String: Any])?["status"] as? String == "busy" } != nil)
            try await alice.send(json: ["id": 3, "type": "unsubscribe", "users": ["bob"]])
            #expect(try await alice.reply(to: 3)?["type"] as? String == "ok")

            // Refusals keep the socket open.
            for (id, frame) in [
                (4, #"{"id":4,"type":"hello","token":"x"}"#), (5, #"{"id":5,"type":"dance"}"#),
                (6, #"{"id":6,"type":"subscribe","users":["a b"]}"#), (7, #"{"id":7,"type":"set","status":"asleep"}"#),
            ] {
                try await alice.send(frame)
                #expect(try await alice.reply(to: id)?["type"] as? String == "error", "\(frame)")
            }
            try await alice.sendFrame(WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: ByteBuffer(bytes: [1])))
            #expect(try await alice.message { ($0["error"] as? [String: Any])?["message"] as? String == "commands are JSON text frames" } != nil)
            try await alice.sendFrame(WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(), data: ByteBuffer(string: "hi")))
            #expect(!alice.received.closed)

            // A close frame ends the session at once.
            try await bob.close()
            #expect(try await bob.closed().code == 1000)
            #expect(try await Self.eventually { try await fixture.status("bob") == "offline" })
            #expect(fixture.counter(#"presence_ws_sessions_ended_total{reason="close"} 1"#))
        }
    }

    @Test func tokensHelloTimeAndSilenceCloseTheSocket() async throws {
        let fixture = try await SocketServerFixture()
        try await fixture.run { port in
            let anonymous = try await TestSocket.connect(port: port)
            try await anonymous.send(json: ["type": "hello"])
            #expect(try await anonymous.closed().code == 4401)
            let forged = try await TestSocket.connect(port: port)
            try await forged.send(json: ["type": "hello", "token": "a.b.c"])
            #expect(try await forged.closed().code == 4401)
            let notString = try await TestSocket.connect(port: port)
            try await notString.send(json: ["type": "hello", "token": 5])
            #expect(try await notString.closed().code == 4401)
            let mute = try await TestSocket.connect(port: port)
            #expect(try await mute.closed().code == 4408)

            let silent = try await TestSocket.connect(port: port)
            _ = try #require(try await silent.hello(token: try await SocketServerFixture.token("silent")))
            silent.goSilent()
            #expect(try await silent.closed(within: .seconds(6)).code == 4408)
            #expect(try await Self.eventually { try await fixture.status("silent") == "offline" })
        }
    }

    @Test func dropsTakeoversAndEndsElsewhere() async throws {
        let fixture = try await SocketServerFixture()
        try await fixture.run { port in
            let token = try await SocketServerFixture.token("carol")
            let first = try await TestSocket.connect(port: port)
            _ = try #require(try await first.hello(token: token, session: "phone", extra: ["status": "away"]))
            let second = try await TestSocket.connect(port: port)
            let welcome = try #require(try await second.hello(token: token, session: "phone"))
            #expect((welcome["presence"] as? [String: Any])?["status"] as? String == "away", "taken over as it was")
            #expect(try await first.closed().code == 4409)
            await second.drop()
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await fixture.status("carol") == "away", "within the grace")
            #expect(try await Self.eventually { try await fixture.status("carol") == "offline" }, "after the grace")

            let dave = try await TestSocket.connect(port: port)
            _ = try #require(try await dave.hello(token: try await SocketServerFixture.token("dave")))
            _ = try await fixture.repository.apply(.endAll, to: UserID(validating: "dave"), ifMatch: nil)
            #expect(try await dave.closed().code == 4410)
        }
    }

    @Test func framingLimitsAndAClientThatDoesNotRead() async throws {
        let fixture = try await SocketServerFixture(
            sockets: SocketSettings(pingInterval: 600, authTimeout: 5, maxConnections: 3, maxSubscriptions: 2))
        try await fixture.run { port in
            let big = try await TestSocket.connect(port: port)
            _ = try #require(try await big.hello(token: try await SocketServerFixture.token("big")))
            try await big.send(json: ["id": 1, "type": "subscribe", "users": ["a", "b", "c"]])
            #expect(((try await big.reply(to: 1))?["error"] as? [String: Any])?["code"] as? String == "too_many_users")
            try await big.send(String(repeating: "x", count: 5_000))
            #expect(try await big.closed().code == 1009)
            let reserved = try await TestSocket.connect(port: port)
            try await reserved.sendFrame(
                WebSocketFrame(fin: true, rsv2: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: "{}")))
            #expect(try await reserved.closed().code == 1002)

            let reader = try await TestSocket.connect(port: port, receiveBuffer: 4_096)
            _ = try #require(try await reader.hello(token: try await SocketServerFixture.token("reader")))
            try await reader.send(json: ["id": 1, "type": "subscribe", "users": ["w1", "w2"]])
            _ = try await reader.reply(to: 1)
            try await reader.stopReading()
            let message = String(repeating: "m", count: 250)
            for round in 0..<3_000 where !fixture.counter("presence_ws_slow_readers_total 1") {
                let change = PresenceChange.set(
                    .defaultSession, .init(status: round / 2 % 2 == 0 ? .busy : .away, message: message, ttl: 300))
                _ = try await fixture.repository.apply(change, to: UserID(validating: "w\(round % 2 + 1)"), ifMatch: nil)
            }
            #expect(fixture.counter("presence_ws_slow_readers_total 1"))
            try await reader.resumeReading()
            let closed = try await reader.closed()
            // 1013 when the client reads again within the close time-out (it does here, at once,
            // unless the machine stalls for a second); else the connection just ends.
            #expect(closed.closed && (closed.code == 1013 || closed.code == nil), "\(closed)")

            // Three places: two sockets open now, the third is refused with 503 by the router.
            let one = try await TestSocket.connect(port: port)
            let two = try await TestSocket.connect(port: port)
            let three = try await TestSocket.connect(port: port)
            await #expect(throws: TestSocket.UpgradeFailed.self) { _ = try await TestSocket.connect(port: port) }
            _ = (one, two, three)
        }
    }

    /// Polls `condition` for up to five seconds.
    static func eventually(_ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        repeat {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        } while ContinuousClock.now < deadline
        return false
    }
}
