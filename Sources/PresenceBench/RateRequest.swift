import NIOCore
import NIOHTTP1

/// What an open-loop run sends: a heartbeat per request, optionally a PUT (`online`, with a
/// TTL) as each user's first request so that every user exists, online, before its first
/// heartbeat; always with the admin token, on keep-alive connections.
struct RateRequestShape: Sendable {
    /// User ids are `prefix0 … prefix(users-1)`.
    var prefix: String
    /// The session heartbeated (`…/sessions/<name>/heartbeat`); nil: the user's `default`.
    var session: String?
    /// The bearer token sent with every request.
    var token: String
    /// When set, a user's first request (index < users) is a PUT of `online` with this TTL.
    var startOnlineTTL: Int?

    /// The request `index` of `schedule`: method, path and body.
    func request(_ index: Int, of schedule: RateSchedule) -> (head: HTTPRequestHead, body: ByteBuffer?) {
        let user = "\(prefix)\(schedule.user(index))"
        let base = "/api/v2/presence/\(user)" + (session.map { "/sessions/\($0)" } ?? "")
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: "Host", value: "bench")
        headers.add(name: "Authorization", value: "Bearer \(token)")
        if let ttl = startOnlineTTL, index < schedule.users {
            let body = ByteBuffer(string: #"{"status":"online","ttl":\#(ttl)}"#)
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: "\(body.readableBytes)")
            return (HTTPRequestHead(version: .http1_1, method: .PUT, uri: base, headers: headers), body)
        }
        headers.add(name: "Content-Length", value: "0")
        return (HTTPRequestHead(version: .http1_1, method: .POST, uri: base + "/heartbeat", headers: headers), nil)
    }
}
