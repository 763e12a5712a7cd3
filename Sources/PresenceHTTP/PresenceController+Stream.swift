import Hummingbird
import PresenceCore
import ServiceLifecycle

extension PresenceController {
    /// `GET /api/v2/presence/stream?users=a,b`: Server-Sent Events. First one `presence`
    /// event per listed user that has a record, then one per change, `: keepalive` comments
    /// from the hub's ticker. A subscriber that falls behind gets a final `error` event and
    /// the stream ends; graceful shutdown ends every stream.
    @Sendable func stream(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        try await authorizeRead(request, context: context)
        let users = try UserIDList.fromQuery(request.uri.query, limit: PresenceLimits.maxUsersPerStream)
        let tooMany = PresenceError(.unavailable, "too many open streams on this node; try again later", retryAfter: 5)
        guard openStreams.acquire(limit: changes.maxSubscribers) else { throw tooMany }
        guard let subscription = changes.subscribe(to: users) else {
            openStreams.release()
            throw tooMany
        }
        // Subscribed first, then the snapshot: a change in between is sent, not missed.
        var snapshot: [StoredPresence] = []
        do {
            for user in users {
                if let stored = try await repository.presence(of: user) { snapshot.append(stored) }
            }
        } catch {
            subscription.cancel()
            openStreams.release()
            throw error
        }
        let clock = self.clock
        let initial = snapshot
        let openStreams = self.openStreams
        let headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                defer {
                    subscription.cancel()
                    openStreams.release()
                }
                // On shutdown the subscription ends, and so the loop. (A write blocked on a client
                // that stopped reading ends when the service's shutdown deadline cancels it.)
                try await withGracefulShutdownHandler {
                    var sent: [UserID: UInt64] = [:]
                    for stored in initial {
                        sent[stored.user] = stored.revision
                        try await writer.write(ServerSentEvent.presence(stored, at: clock()))
                    }
                    for await event in subscription.events {
                        switch event {
                        case .keepalive:
                            try await writer.write(ServerSentEvent.keepalive)
                        case .presence(let stored):
                            guard stored.revision > sent[stored.user] ?? 0 else { continue }
                            sent[stored.user] = stored.revision
                            try await writer.write(ServerSentEvent.presence(stored, at: clock()))
                        }
                    }
                    if subscription.wasOverrun {
                        try await writer.write(ServerSentEvent.slowConsumer)
                    }
                } onGracefulShutdown: {
                    subscription.cancel()
                }
                try await writer.finish(nil)
            })
    }
}

/// The wire form of the stream's events.
enum ServerSentEvent {
    /// `id: <revision>`, `event: presence`, `data: <record JSON on one line>`.
    static func presence(_ stored: StoredPresence, at now: Timestamp) -> ByteBuffer {
        var out = Array("id: \(stored.revision)\nevent: presence\ndata: ".utf8)
        out.append(contentsOf: stored.body(at: now))
        out.append(contentsOf: "\n\n".utf8)
        return ByteBuffer(bytes: out)
    }

    /// A comment line that keeps proxies from closing an idle stream.
    static let keepalive = ByteBuffer(string: ": keepalive\n\n")

    /// The last event of a stream whose client did not keep up.
    static let slowConsumer = ByteBuffer(
        string:
            "event: error\ndata: {\"error\":{\"code\":\"slow_consumer\",\"message\":\"the client did not read events fast enough; reconnect\"}}\n\n"
    )
}
