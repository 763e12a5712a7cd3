import Hummingbird

// The framework ceiling: a bare Hummingbird route answering GET /u/{id} (and, for
// bench/heartbeat-cpu, POST /api/v2/presence/{id}/heartbeat) with a ~200-byte JSON body from
// an in-memory dictionary, with no validation, auth, metrics or store.
let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 18090
let users = 100_000
var bodies: [String: ByteBuffer] = [:]
bodies.reserveCapacity(users)
for index in 0..<users {
    bodies["user\(index)"] = ByteBuffer(
        string:
            #"{"user_id":"user\#(index)","status":"online","message":"","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z","node_id":"leaf-1","ttl":300,"revision":\#(index + 1)}"#
    )
}
let table = bodies
let router = Router()
router.get("u/:id") { _, context -> Response in
    guard let id = context.parameters.get("id"), let body = table[id] else { return Response(status: .notFound) }
    return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
}
router.post("api/v2/presence/:id/heartbeat") { _, context -> Response in
    guard let id = context.parameters.get("id"), let body = table[id] else { return Response(status: .notFound) }
    return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
