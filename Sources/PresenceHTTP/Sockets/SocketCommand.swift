import PresenceCore

/// A frame a connected client sent (SPEC §3b), validated by the REST API's own rules.
enum SocketCommand: Equatable {
    /// The first frame: who the client is and what its session says.
    case hello(SocketHello)
    /// A change of the socket's session: status, message, `message_expires_at`.
    case set(PresenceUpdateBody)
    /// Start sending these users' presence.
    case subscribe([UserID])
    /// Stop sending these users' presence.
    case unsubscribe([UserID])

    /// A command as read from one text frame: the `id` to echo (its JSON text, if the frame
    /// had a usable one) and the command, or why it was refused.
    struct Parsed {
        var id: [UInt8]?
        var command: Result<SocketCommand, PresenceError>
    }

    /// Reads one text frame.
    /// - Parameters:
    ///   - ttl: the `ttl` of the socket's session (a `ttl` field is not the client's to set).
    ///   - maxUsers: the most users one `subscribe` may list.
    static func parse(_ bytes: [UInt8], ttl: Int, maxUsers: Int, now: Timestamp) -> Parsed {
        guard let fields = JSONValue.object(from: bytes) else {
            return Parsed(id: nil, command: .failure(PresenceError(.badRequest, "a command is one JSON object")))
        }
        var id: [UInt8]?
        switch fields["id"] {
        case nil, .null?: id = nil
        case .string(let text)?:
            var out = [UInt8]()
            JSONString.append(text, to: &out)
            id = out
        case .integer(let value)?: id = Array(String(value).utf8)
        case .number(let value)? where value.isFinite: id = Array(String(value).utf8)
        default:
            return Parsed(id: nil, command: .failure(PresenceError(.badRequest, "id must be a string or a number")))
        }
        do throws(PresenceError) {
            return Parsed(id: id, command: .success(try command(fields, ttl: ttl, maxUsers: maxUsers, now: now)))
        } catch {
            return Parsed(id: id, command: .failure(error))
        }
    }

    private static func command(_ fields: [String: JSONValue], ttl: Int, maxUsers: Int, now: Timestamp)
        throws(PresenceError) -> SocketCommand
    {
        guard case .string(let type)? = fields["type"] else {
            throw PresenceError(.badRequest, "type is required: hello, set, subscribe or unsubscribe")
        }
        switch type {
        case "hello": return .hello(try SocketHello(fields: fields, ttl: ttl, now: now))
        case "set":
            var update = try PresenceUpdateBody(fields: fields.filter { $0.key != "ttl" }, defaultTTL: ttl, now: now)
            update.device = nil
            return .set(update)
        case "subscribe": return .subscribe(try UserIDList.field("users", of: fields, limit: maxUsers))
        case "unsubscribe": return .unsubscribe(try UserIDList.field("users", of: fields, limit: maxUsers))
        default: throw PresenceError(.badRequest, "unknown type; one of hello, set, subscribe, unsubscribe")
        }
    }
}

extension SocketCommand {
    /// The command's type, for the metrics.
    var name: String {
        switch self {
        case .hello: "hello"
        case .set: "set"
        case .subscribe: "subscribe"
        case .unsubscribe: "unsubscribe"
        }
    }
}
