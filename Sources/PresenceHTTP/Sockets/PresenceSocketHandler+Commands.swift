import Foundation
import NIOCore
import PresenceAuth
import PresenceCore

extension PresenceSocketHandler {
    /// What a hello's work in the store came to.
    enum HelloOutcome: Sendable {
        case welcomed(Session, StoredPresence, tokenExpires: Timestamp)
        /// The token: the socket closes (4401).
        case unauthorized(String)
        /// Anything else: answered, and the client may say hello again.
        case refused(PresenceError)
    }

    /// `hello`: verifies the token (the hello's, else the upgrade request's), writes the
    /// session (status `online` unless named; a hello that names no status for a session that
    /// lives keeps its status and message), and welcomes the socket. A bad, expired or missing
    /// token closes with 4401; other refusals are answered and the socket may try again until
    /// its auth time-out.
    func hello(_ hello: SocketHello, id: [UInt8]?) {
        guard lifecycle.helloArrived() else {
            reply(id: id, PresenceError(.badRequest, "this socket has said hello already"))
            return
        }
        guard let token = hello.token ?? headerToken else {
            close(.unauthorized("a token is required: in the hello or an Authorization header"))
            return
        }
        let endpoint = self.endpoint
        inStore({ () async -> HelloOutcome in
            await Self.welcome(hello, token: token, endpoint: endpoint)
        }) { handler, outcome in
            handler.finishHello(outcome, id: id)
        }
    }

    private static func welcome(_ hello: SocketHello, token: String, endpoint: SocketEndpoint) async -> HelloOutcome {
        let identity: TokenVerifier.Identity
        let expires: Date
        do throws(PresenceError) {
            (identity, expires) = try await endpoint.verifier.verifyExpiring(token: token)
        } catch {
            return error.code == .unauthorized ? .unauthorized(error.message) : .refused(error)
        }
        guard let user = try? UserID(validating: identity.subject) else {
            return .unauthorized("the token's subject is not a valid user id")
        }
        let sessionID = hello.session ?? SocketEndpoint.newSessionID()
        var update = hello.update.update
        update.ttl = endpoint.settings.sessionTTL
        do throws(PresenceError) {
            var change = PresenceChange.set(sessionID, update)
            if !hello.namesStatus, let stored = try await endpoint.read(user),
                let live = stored.userPresence.session(sessionID)?.effective(at: endpoint.clock()),
                live.status != .offline
            {
                update.status = live.status
                update.message = live.message
                update.messageExpiresAt = live.messageExpiresAt
                // A reconnect that changes nothing (a network switch, another tab taking the
                // session): a heartbeat, not a durable write, so a storm of reconnects costs
                // the center nothing.
                let sameDevice = hello.update.device == nil || hello.update.device == live.device
                change = sameDevice ? .heartbeat(sessionID, sessionRequired: true) : .set(sessionID, update)
            }
            let stored = try await endpoint.write(change, user, identity)
            let stamp = SocketSessionStamp()
            stamp.note(sessionID, in: stored)
            let session = Session(
                key: .init(user: user, session: sessionID), identity: identity, device: hello.update.device,
                status: update.status, stamp: stamp)
            let tokenExpires = Timestamp(millisecondsSinceEpoch: Int64(expires.timeIntervalSince1970 * 1_000))
            return .welcomed(session, stored, tokenExpires: tokenExpires)
        } catch {
            return .refused(error)
        }
    }

    private func finishHello(_ outcome: HelloOutcome, id: [UInt8]?) {
        switch outcome {
        case .unauthorized(let message):
            close(.unauthorized(message))
        case .refused(let error):
            lifecycle.helloRefused()
            reply(id: id, error)
        case .welcomed(let session, let stored, let tokenExpires):
            guard lifecycle.welcomed(now: endpoint.clock(), tokenExpires: tokenExpires) else {
                // Closed while the session was written: it ends, unless another socket has it.
                _ = endpoint.end(session.key, stamp: session.stamp, reason: .close)
                return
            }
            becomeLive(session)
            let body = OwnerView.body(stored, at: endpoint.clock(), includeSessions: false)
            send(SocketMessage.welcome(id: id, session: session.key.session, presence: body, allocator: allocator))
        }
    }

    /// `set`: the socket's session takes the status, message and `message_expires_at`.
    func set(_ body: PresenceUpdateBody, id: [UInt8]?) {
        guard let session, lifecycle.isLive else {
            reply(id: id, PresenceError(.unauthorized, "say hello first"))
            return
        }
        var update = body.update
        update.ttl = endpoint.settings.sessionTTL
        update.device = session.device
        let endpoint = self.endpoint
        let change = PresenceChange.set(session.key.session, update)
        inStore({ () async -> Result<StoredPresence, PresenceError> in
            do throws(PresenceError) {
                let stored = try await endpoint.write(change, session.key.user, session.identity)
                session.stamp.note(session.key.session, in: stored)
                return .success(stored)
            } catch {
                return .failure(error)
            }
        }) { handler, result in
            switch result {
            case .success(let stored):
                handler.session?.status = update.status
                let body = OwnerView.body(stored, at: handler.endpoint.clock(), includeSessions: false)
                handler.send(SocketMessage.ok(id: id, presence: body, allocator: handler.allocator))
            case .failure(let error):
                handler.reply(id: id, error)
            }
        }
    }

    /// `subscribe`: `ok`, then each listed user's presence (those with a record), then their
    /// changes. Subscribed first, then read, so a change in between is not missed (the filter
    /// drops whichever of the two is older).
    func subscribe(_ users: [UserID], id: [UInt8]?) {
        guard lifecycle.isLive, let loop = eventLoop else {
            reply(id: id, PresenceError(.unauthorized, "say hello first"))
            return
        }
        let listening = self.listening ?? endpoint.hub.listen(SocketListener(NIOLoopBound(self, eventLoop: loop)))
        self.listening = listening
        let limit = endpoint.settings.maxSubscriptions
        guard listening.watch(users, limit: limit) else {
            reply(id: id, PresenceError(.tooManyUsers, "a socket may subscribe to at most \(limit) users"))
            return
        }
        send(SocketMessage.ok(id: id, allocator: allocator))
        let endpoint = self.endpoint
        inStore({ () async -> Result<[StoredPresence], PresenceError> in
            var found = [StoredPresence]()
            for user in users {
                do throws(PresenceError) {
                    if let stored = try await endpoint.read(user) { found.append(stored) }
                } catch {
                    return .failure(error)
                }
            }
            return .success(found)
        }) { handler, result in
            switch result {
            case .success(let records):
                for stored in records { handler.deliverSnapshot(stored) }
            case .failure(let error):
                handler.reply(id: id, error)
            }
        }
    }

    /// `unsubscribe`: no more of these users' changes.
    func unsubscribe(_ users: [UserID], id: [UInt8]?) {
        guard lifecycle.isLive else {
            reply(id: id, PresenceError(.unauthorized, "say hello first"))
            return
        }
        listening?.unwatch(users)
        for user in users { filter.forget(user) }
        send(SocketMessage.ok(id: id, allocator: allocator))
    }
}
