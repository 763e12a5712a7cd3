import Foundation
import Logging

/// Where a replica's initial load spends its time, for the "replica loaded" log line: a new
/// node is ready only once every record is in memory, so this is what its start-up waits for.
///
/// `decoding` (the KV value to the stored form: the record and its API body) and `storing`
/// (into the replica) are summed over the entries; `waiting` is the rest of the wall
/// time since the watcher started: nats.c delivering the entries (the network, the consumer's
/// flow control, `kvWatcher_Next`) and copying them out of its messages.
struct ReplicaLoadTiming: Sendable {
    private var started = ContinuousClock.now
    var decoding = Duration.zero
    var storing = Duration.zero

    /// The log line's fields, in seconds.
    func metadata(now: ContinuousClock.Instant = .now) -> Logger.Metadata {
        let total = now - started
        let waiting = total - decoding - storing
        return [
            "seconds": Self.seconds(total), "waiting_for_entries_seconds": Self.seconds(waiting),
            "decoding_seconds": Self.seconds(decoding), "storing_seconds": Self.seconds(storing),
        ]
    }

    private static func seconds(_ duration: Duration) -> Logger.MetadataValue {
        let (whole, attoseconds) = duration.components
        return "\(String(format: "%.3f", max(0, Double(whole) + Double(attoseconds) / 1e18)))"
    }
}
