/// The presence states a user (or one of the user's sessions) can be in.
public enum PresenceStatus: String, Sendable, CaseIterable, Codable {
    case online
    case away
    case busy
    case offline
    /// A session that is present but hidden: while one is live, everyone but the user reads
    /// the user as `offline` (SPEC §2, Invisible). Only a session, or the user's own view, has it.
    case invisible

    /// Parses a status from its wire form.
    /// - Throws: ``PresenceError`` `invalid_status` for anything but the five states.
    public init(validating raw: String) throws(PresenceError) {
        guard let status = PresenceStatus(rawValue: raw) else {
            throw PresenceError(.invalidStatus, "status must be one of online, away, busy, offline, invisible")
        }
        self = status
    }
}
