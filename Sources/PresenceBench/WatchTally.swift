import NIOCore

/// What watcher sockets saw of a set of watched users `<prefix>0 …`: whether each was seen
/// online, and when (wall-clock milliseconds) its first `offline` event arrived.
struct WatchTally: Sendable {
    var seenOnline: [Bool]
    /// NaN until the user's first offline event.
    var offlineAt: [Double]
    /// Offline events in all (a second one for a user is a repeat), and those that came
    /// before the watch was armed (before the users were made to go away: none is expected).
    var offlineEvents = 0
    var offlineBeforeArmed = 0
    var events = 0

    init(users: Int) {
        seenOnline = Array(repeating: false, count: users)
        offlineAt = Array(repeating: .nan, count: users)
    }

    /// A `presence` frame that arrived at `now` (wall-clock milliseconds): a watched user
    /// (`<prefix><n>`) online, or offline (counted as such once `armed`).
    mutating func record(_ payload: ByteBuffer, prefix: [UInt8], armed: Bool, at now: Double) {
        events += 1
        guard let user = PresenceFrameFields.userNumber(payload, prefix: prefix), seenOnline.indices.contains(user) else {
            return
        }
        guard PresenceFrameFields.status(payload) == .offline else {
            seenOnline[user] = true
            return
        }
        guard armed else {
            offlineBeforeArmed += 1
            return
        }
        offlineEvents += 1
        if offlineAt[user].isNaN { offlineAt[user] = now }
    }

    mutating func merge(_ other: WatchTally) {
        for index in seenOnline.indices where index < other.seenOnline.count {
            seenOnline[index] = seenOnline[index] || other.seenOnline[index]
            let theirs = other.offlineAt[index]
            if !theirs.isNaN, offlineAt[index].isNaN || theirs < offlineAt[index] { offlineAt[index] = theirs }
        }
        offlineEvents += other.offlineEvents
        offlineBeforeArmed += other.offlineBeforeArmed
        events += other.events
    }
}
