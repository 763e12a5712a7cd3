/// What a leaf that authenticated with the leaf credential may do on a center: the KV
/// operations on the presence bucket and nothing else (SPEC §5).
///
/// nats-server applies a leaf user's permissions to the messages the leaf sends into the
/// center (`publish`) and to the interest the leaf may register there (`subscribe`). Every
/// JetStream API subject is allowed in both spellings, with the `hub` domain prefix a leaf
/// uses and without it, since the center maps one onto the other. Anything not listed is
/// denied: stream create, update, delete and purge, other streams, other accounts' traffic.
enum LeafPermissions {
    /// Subjects a leaf may publish to.
    static func publish(bucket: String, domain: String) -> [String] {
        let stream = "KV_" + bucket
        let api = [
            "INFO",  // account info: the leaf's reachability probe
            "STREAM.INFO.\(stream)",  // bind the bucket, read its state
            "STREAM.NAMES",  // the watcher looks its stream up by subject
            "STREAM.MSG.GET.\(stream)",  // get a record
            "DIRECT.GET.\(stream)", "DIRECT.GET.\(stream).>",  // get a record (direct)
            "CONSUMER.CREATE.\(stream)", "CONSUMER.CREATE.\(stream).>",  // the watcher
            "CONSUMER.INFO.\(stream).>", "CONSUMER.DELETE.\(stream).>",
        ]
        var subjects: [String] = []
        for prefix in ["$JS.API.", "$JS.\(domain).API."] {
            subjects += api.map { prefix + $0 }
        }
        subjects += [
            "$KV.\(bucket).>", "$JS.\(domain).API.$KV.\(bucket).>",  // writes (puts with compare-and-set)
            "$JS.FC.\(stream).>",  // flow-control answers of the watcher
            "_INBOX.>",  // replies
        ]
        return subjects
    }

    /// Subjects a leaf may subscribe to: replies and watcher deliveries (both on inboxes),
    /// and nats-server's own leafnode loop detection.
    static let subscribe = ["_INBOX.>", "$LDS.>"]
}
