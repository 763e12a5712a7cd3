import PresenceCore

/// The validated body of `PUT /api/v2/presence/{user_id}` and of a session's PUT.
struct PresenceUpdateBody: Equatable {
    var status: PresenceStatus
    var message: String
    var ttl: Int
    var messageExpiresAt: Timestamp?
    var device: String?

    /// The session update this body asks for.
    var update: PresenceChange.SessionUpdate {
        PresenceChange.SessionUpdate(
            status: status, message: message, ttl: ttl, messageExpiresAt: messageExpiresAt, device: device)
    }

    /// Validates a PUT body: `status` required; `message` optional (default `""`); `ttl`
    /// optional (default `defaultTTL`); `message_expires_at` optional (RFC 3339, after `now`,
    /// at most 30 days ahead); `device` optional (at most 32 characters, no control
    /// characters). Unknown fields are ignored. `null` counts as absent for the optional fields.
    init(json bytes: [UInt8], defaultTTL: Int, now: Timestamp) throws(PresenceError) {
        guard let fields = JSONValue.object(from: bytes) else {
            throw PresenceError(.badRequest, "the body must be a JSON object")
        }
        try self.init(fields: fields, defaultTTL: defaultTTL, now: now)
    }

    /// Validates the fields of a parsed body, or of a connected socket's `hello` or `set`
    /// (SPEC §3b), by the same rules.
    /// - Parameter defaultStatus: the status when the body names none; nil: `status` is required.
    init(
        fields: [String: JSONValue], defaultTTL: Int, now: Timestamp, defaultStatus: PresenceStatus? = nil
    ) throws(PresenceError) {
        switch fields["status"] {
        case .string(let raw)?: status = try PresenceStatus(validating: raw)
        case nil, .null?:
            guard let defaultStatus else {
                throw PresenceError(.invalidStatus, "status is required: online, away, busy, offline or invisible")
            }
            status = defaultStatus
        default: throw PresenceError(.invalidStatus, "status must be one of online, away, busy, offline")
        }
        switch fields["message"] {
        case nil, .null?: message = ""
        case .string(let text)?:
            try PresenceLimits.validateMessage(text)
            message = text
        default: throw PresenceError(.invalidMessage, "message must be a string")
        }
        switch fields["ttl"] {
        case nil, .null?: ttl = defaultTTL
        case .integer(let value)?:
            try PresenceLimits.validateTTL(value)
            ttl = value
        default:
            throw PresenceError(.invalidTTL, "ttl must be an integer number of seconds from 10 to 86400")
        }
        switch fields["message_expires_at"] {
        case nil, .null?: messageExpiresAt = nil
        case .string(let raw)?:
            guard let time = RFC3339.parse(raw) else {
                throw PresenceError(.invalidMessage, "message_expires_at must be an RFC 3339 date-time")
            }
            guard time > now, time <= now.adding(seconds: PresenceLimits.maxMessageLifetime) else {
                throw PresenceError(.invalidMessage, "message_expires_at must be in the future and at most 30 days ahead")
            }
            messageExpiresAt = time
        default: throw PresenceError(.invalidMessage, "message_expires_at must be an RFC 3339 date-time string")
        }
        switch fields["device"] {
        case nil, .null?: device = nil
        case .string(let text)?:
            try PresenceLimits.validateDevice(text)
            device = text
        default: throw PresenceError(.badRequest, "device must be a string")
        }
    }
}

/// The validated body of `POST /api/v2/presence/batch`.
struct BatchRequestBody {
    var userIDs: [UserID]

    init(json bytes: [UInt8]) throws(PresenceError) {
        guard let fields = JSONValue.object(from: bytes) else {
            throw PresenceError(.badRequest, "the body must be a JSON object with a user_ids array")
        }
        userIDs = try UserIDList.field("user_ids", of: fields, limit: PresenceLimits.maxUsersPerBatch)
    }
}

/// Validation of id lists shared by the batch forms and the stream.
enum UserIDList {
    /// Validates ids, collapses duplicates (first occurrence wins) and enforces `limit` on
    /// the distinct ids.
    static func validate(_ raw: [String], limit: Int) throws(PresenceError) -> [UserID] {
        guard !raw.isEmpty else { throw PresenceError(.badRequest, "list at least one user id") }
        var seen = Set<UserID>()
        var ids = [UserID]()
        for text in raw {
            let id = try UserID(validating: text)
            if seen.insert(id).inserted {
                ids.append(id)
                if ids.count > limit {
                    throw PresenceError(.tooManyUsers, "at most \(limit) user ids per request")
                }
            }
        }
        return ids
    }

    /// Reads the array of id strings in `fields[name]` and validates it.
    static func field(_ name: String, of fields: [String: JSONValue], limit: Int) throws(PresenceError) -> [UserID] {
        guard case .array(let values)? = fields[name] else {
            throw PresenceError(.badRequest, "\(name) must be an array of user ids")
        }
        var raw = [String]()
        raw.reserveCapacity(values.count)
        for value in values {
            guard case .string(let id) = value else {
                throw PresenceError(.invalidUserID, "every entry of \(name) must be a string")
            }
            raw.append(id)
        }
        return try validate(raw, limit: limit)
    }

    /// Parses `users=a,b,c` from a raw query string. `+` is a literal plus, not a space.
    static func fromQuery(_ query: String?, limit: Int) throws(PresenceError) -> [UserID] {
        guard let value = QueryString.value(of: "users", in: query) else {
            throw PresenceError(.badRequest, "the users query parameter is required, e.g. ?users=alice,bob")
        }
        guard !value.isEmpty else { throw PresenceError(.badRequest, "list at least one user id") }
        return try validate(value.split(separator: ",", omittingEmptySubsequences: false).map(String.init), limit: limit)
    }
}
