/// What the `offline-watch` tool saw on one node.
struct OfflineWatchCounts: Sendable {
    /// The node's HTTP port.
    let port: Int
    /// Stream connections that were answered 200 (the first and every reconnection).
    var streamConnects = 0
    /// Stream connections refused (not 200) or that could not be opened (the node was down).
    var streamFailures = 0
    /// `data:` events received (snapshots included).
    var streamEvents = 0
    /// Events that showed a watched user `offline`.
    var streamOffline = 0
    /// Users read (batch reads).
    var reads = 0
    /// Users a read answered `offline`.
    var readOffline = 0
    /// Users a read did not find.
    var readNotFound = 0
    /// Batch reads that failed (no answer or not 200).
    var readErrors = 0

    var json: String {
        #"{"port":\#(port),"stream_connects":\#(streamConnects),"stream_failures":\#(streamFailures),"stream_events":\#(streamEvents),"stream_offline_events":\#(streamOffline),"reads":\#(reads),"read_offline":\#(readOffline),"read_not_found":\#(readNotFound),"read_errors":\#(readErrors)}"#
    }
}
