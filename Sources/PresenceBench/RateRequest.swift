import NIOCore
import NIOHTTP1

/// What an open-loop run sends: a heartbeat per request, optionally a PUT (`online`, with a
/// TTL) as each user's first request so that every user exists, online, before its first
/// heartbeat; always with the admin token, on keep-alive connections.
struct RateRequestShape: Sendable {
    /// User ids are `prefix0 … prefix(users-1)`.
    let prefix: String
    /// The path after the user id: the heartbeat of the user's `default` or of a named session.
    private let sessionPath: String
    /// When set, a user's first request (index < users) is a PUT of `online` with this TTL.
    let startOnlineTTL: Int?
    // Built once: only the path changes from one request to the next.
    private let heartbeatHeaders: HTTPHeaders
    private let putHeaders: HTTPHeaders
    private let putBody: ByteBuffer

    /// - Parameters:
    ///   - session: the session heartbeated (`…/sessions/<name>/heartbeat`); nil: the user's `default`.
    ///   - token: the bearer token sent with every request.
    init(prefix: String, session: String?, token: String, startOnlineTTL: Int?) {
        self.prefix = prefix
        self.sessionPath = session.map { "/sessions/\($0)" } ?? ""
        self.startOnlineTTL = startOnlineTTL
        let common = HTTPHeaders([("Host", "bench"), ("Authorization", "Bearer \(token)")])
        var heartbeat = common
        heartbeat.add(name: "Content-Length", value: "0")
        heartbeatHeaders = heartbeat
        putBody = ByteBuffer(string: #"{"status":"online","ttl":\#(startOnlineTTL ?? 0)}"#)
        var put = common
        put.add(name: "Content-Type", value: "application/json")
        put.add(name: "Content-Length", value: "\(putBody.readableBytes)")
        putHeaders = put
    }

    /// The request `index` of `schedule`: method, path and body.
    func request(_ index: Int, of schedule: RateSchedule) -> (head: HTTPRequestHead, body: ByteBuffer?) {
        let path = "/api/v2/presence/\(prefix)\(schedule.user(index))\(sessionPath)"
        if startOnlineTTL != nil, index < schedule.users {
            return (HTTPRequestHead(version: .http1_1, method: .PUT, uri: path, headers: putHeaders), putBody)
        }
        return (HTTPRequestHead(version: .http1_1, method: .POST, uri: path + "/heartbeat", headers: heartbeatHeaders), nil)
    }
}
