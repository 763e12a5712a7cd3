/// The presence states a user can be in.
public enum PresenceStatus: String, Sendable, CaseIterable, Codable {
    case online
    case away
    case busy
    case offline

    /// Parses a status from its wire form.
    /// - Throws: ``PresenceError`` `invalid_status` for anything but the four states.
    public init(validating raw: String) throws(PresenceError) {
        guard let status = PresenceStatus(rawValue: raw) else {
            throw PresenceError(.invalidStatus, "status must be one of online, away, busy, offline")
        }
        self = status
    }
}
