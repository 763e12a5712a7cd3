import NIOCore
import NIOHTTP1

/// What an open-loop run sends: a heartbeat per request, optionally a PUT (`online`, with a
/// TTL) as each user's first request so that every user exists, online, before its first
/// heartbeat; or (``init(changesOf:token:ttl:)``) a change per request, a PUT whose message
/// names the request and when it was due. Always with the admin token, on keep-alive connections.
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
    /// When set, every request is a change with this TTL (the fan-out of `sockets`).
    private var changeTTL: Int?
    /// Wall-clock microseconds at uptime zero: turns a due time into the wall-clock stamp a
    /// change's message carries (its receivers may live in another process).
    private var wallMicrosAtUptimeZero: Int64 = 0

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

    /// Changes: request `index` is `PUT /api/v2/presence/<prefix><user>` with status `busy`,
    /// message `bench <index> <due, µs since the epoch>` and `ttl`: each a new public view of its
    /// user, so each is an event for every subscriber.
    init(changesOf prefix: String, token: String, ttl: Int) {
        self.init(prefix: prefix, session: nil, token: token, startOnlineTTL: nil)
        changeTTL = ttl
        wallMicrosAtUptimeZero = Int64(wallMillis() * 1000) - Int64(NIODeadline.now().uptimeNanoseconds / 1000)
    }

    /// The request `index` of `schedule`: method, path and body.
    func request(_ index: Int, of schedule: RateSchedule) -> (head: HTTPRequestHead, body: ByteBuffer?) {
        let path = "/api/v2/presence/\(prefix)\(schedule.user(index))\(sessionPath)"
        if let changeTTL {
            let due = wallMicrosAtUptimeZero + Int64(schedule.due(index).uptimeNanoseconds / 1000)
            let body = ByteBuffer(string: #"{"status":"busy","message":"bench \#(index) \#(due)","ttl":\#(changeTTL)}"#)
            var headers = putHeaders
            headers.replaceOrAdd(name: "Content-Length", value: "\(body.readableBytes)")
            return (HTTPRequestHead(version: .http1_1, method: .PUT, uri: path, headers: headers), body)
        }
        if startOnlineTTL != nil, index < schedule.users {
            return (HTTPRequestHead(version: .http1_1, method: .PUT, uri: path, headers: putHeaders), putBody)
        }
        return (HTTPRequestHead(version: .http1_1, method: .POST, uri: path + "/heartbeat", headers: heartbeatHeaders), nil)
    }
}
