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
