import Hummingbird
import NIOCore
import PresenceCore
import ServiceLifecycle

extension PresenceController {
    /// How long a stream cut off as a slow consumer may take to send its final `error` event
    /// before its connection is closed.
    static var cutOffGrace: TimeAmount { .seconds(1) }

    /// `SO_SNDBUF` of a stream's socket (the kernel doubles it).
    static var sendBufferSize: Int { 65_536 }

    /// Bytes of snapshot events gathered into one write.
    static var snapshotChunkSize: Int { 16_384 }

    /// `GET /api/v2/presence/stream?users=a,b`: Server-Sent Events. First `retry: 2000`, then
    /// one `presence` event per listed user that has a record (with `Last-Event-ID: N` only
    /// those whose revision is above N), in revision order, then one per change of what a
    /// public reader sees (status or message; heartbeats and an invisible user's writes send
    /// nothing), `: keepalive` comments from the hub's ticker; graceful shutdown ends every stream.
    ///
    /// What a stream holds for its client is bounded in bytes: the events queued for it and
    /// the bytes its connection has not sent yet (``StreamOutboundCounter``; the socket's own
    /// send buffer is kept to ``sendBufferSize``). A stream past
    /// its bound is cut off as a slow consumer: a final `error` event, and its connection is
    /// closed after ``cutOffGrace`` (a client that stopped reading never takes that event,
    /// and the close ends the write it is blocked on). The snapshot is read user by user as
    /// it is written, so a stalled stream does not keep it; a store failure while reading it
    /// ends the stream with an `error` event.
    @Sendable func stream(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        let users = try UserIDList.fromQuery(request.uri.query, limit: PresenceLimits.maxUsersPerStream)
        // A reconnecting client: only users whose revision is above the last event it got.
        let resumeAfter = request.headers.first { $0.name.canonicalName == "last-event-id" }
            .flatMap { UInt64(HeaderValue.trimmed($0.value)) } ?? 0
        let tooMany = PresenceError(.unavailable, "too many open streams on this node; try again later", retryAfter: 5)
        guard openStreams.acquire(limit: changes.maxSubscribers) else { throw tooMany }
        let channel = context.channel
        let grace = Self.cutOffGrace
        let cutOff: @Sendable () -> Void = {
            _ = channel.eventLoop.scheduleTask(in: grace) { channel.close(promise: nil) }
        }
        // Subscribed first, then the snapshot: a change in between is sent, not missed.
        guard let subscription = changes.subscribe(to: users, onCutOff: cutOff) else {
            openStreams.release()
            throw tooMany
        }
        let (clock, repository, openStreams) = (self.clock, self.repository, self.openStreams)
        let headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let counter = StreamOutboundCounter(subscription: subscription)
                defer {
                    channel.pipeline.removeHandler(counter, promise: nil)
                    subscription.cancel()
                    openStreams.release()
                }
                try await channel.pipeline.addHandler(counter, position: .first).get()
                do {
                    // Keep what the kernel takes for a client that stopped reading small (it would
                    // grow to megabytes per socket), so the backlog shows in the counter.
                    try await channel.setOption(ChannelOptions.socketOption(.so_sndbuf), value: Self.sendBufferSize).get()
                } catch {
                    // Not a socket (the router tests' channel): nothing to bound.
                }
                // On shutdown the subscription ends, and so the loop. (A write blocked on a client
                // that stopped reading ends when the service's shutdown deadline cancels it.)
                try await withGracefulShutdownHandler {
                    try await writer.write(ServerSentEvent.retry)
                    // What each listed user last looked like to this client: an event goes out
                    // only when the public status or message changes.
                    var filter = PresenceEventFilter()
                    var snapshot: [StoredPresence] = []
                    for user in users where !subscription.wasOverrun {
                        let stored: StoredPresence?
                        do throws(PresenceError) {
                            stored = try await repository.presence(of: user)
                        } catch {
                            try await writer.write(ServerSentEvent.error(error))
                            return
                        }
                        guard let stored else { continue }
                        if filter.admitSnapshot(stored, at: clock()), stored.publicRevision > resumeAfter {
                            snapshot.append(stored)
                        }
                    }
                    // In revision order, so the last id a client got is a correct resume point
                    // for every user sent before it.
                    snapshot.sort { $0.publicRevision < $1.publicRevision }
                    // The snapshot goes out in chunks of a few events: fewer, larger writes, each
                    // in one allocation with room for the event that fills it.
                    let allocator = ByteBufferAllocator()
                    var chunk = allocator.buffer(capacity: Self.snapshotChunkSize + 4_096)
                    for stored in snapshot where !subscription.wasOverrun {
                        ServerSentEvent.writePresence(stored, at: clock(), into: &chunk)
                        if chunk.readableBytes >= Self.snapshotChunkSize {
                            try await writer.write(chunk)
                            chunk = allocator.buffer(capacity: Self.snapshotChunkSize + 4_096)
                        }
                    }
                    if chunk.readableBytes > 0 { try await writer.write(chunk) }
                    // A cut-off stream sends nothing more but its last event.
                    for await event in subscription.events where !subscription.wasOverrun {
                        switch event {
                        case .keepalive:
                            try await writer.write(ServerSentEvent.keepalive)
                        case .presence(let stored):
                            let now = clock()
                            guard filter.admitChange(stored, at: now) else { continue }
                            try await writer.write(ServerSentEvent.presence(stored, at: now))
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
