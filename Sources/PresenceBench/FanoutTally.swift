import NIOCore

/// What the subscribed sockets of one fleet (or all, merged) received of a fan-out run: each
/// change `seq` (message `bench <seq> <due µs>`) once per subscriber, ideally.
struct FanoutTally: Sendable {
    /// Deliveries of each change, by its sequence number.
    var received: [UInt32]
    /// Receive time − the change's scheduled send time, milliseconds, per delivery.
    var latenciesMs: [Double] = []
    /// Receive time − the record's `updated_at` (stamped by the node that took the write, before
    /// its durable write; milliseconds), per delivery: the delay without the writer's queue.
    var sinceUpdatedMs: [Double] = []
    /// Frames that named a change outside the run.
    var strays = 0
    /// `presence` frames of anything else meanwhile.
    var otherFrames = 0

    init(changes: Int) { received = Array(repeating: 0, count: changes) }

    /// A `presence` frame that arrived at `now` (wall-clock milliseconds).
    mutating func record(_ payload: ByteBuffer, at now: Double) {
        guard let change = PresenceFrameFields.benchChange(payload) else {
            otherFrames += 1
            return
        }
        guard change.seq >= 0, change.seq < received.count else {
            strays += 1
            return
        }
        received[change.seq] += 1
        latenciesMs.append(now - Double(change.dueMicros) / 1000)
        if let updated = PresenceFrameFields.updatedAtMillis(payload) { sinceUpdatedMs.append(now - Double(updated)) }
    }

    mutating func merge(_ other: FanoutTally) {
        if received.count < other.received.count {
            received += Array(repeating: 0, count: other.received.count - received.count)
        }
        for (seq, count) in other.received.enumerated() { received[seq] += count }
        latenciesMs += other.latenciesMs
        sinceUpdatedMs += other.sinceUpdatedMs
        strays += other.strays
        otherFrames += other.otherFrames
    }
}
