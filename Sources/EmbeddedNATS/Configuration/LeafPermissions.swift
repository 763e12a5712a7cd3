/// What a leaf that authenticated with the leaf credential may do on a center: the KV
/// operations on the presence bucket and nothing else (SPEC §5).
///
/// nats-server applies a leaf user's permissions to the messages the leaf sends into the
/// center (`publish`) and to the interest the leaf may register there (`subscribe`). Every
/// JetStream API subject is allowed in both spellings, with the `hub` domain prefix a leaf
/// uses and without it, since the center maps one onto the other. Anything not listed is
/// denied: stream create, update, delete and purge, other streams, other accounts' traffic.
///
/// Replies reach a leaf on its own inbox prefix only (``inboxPrefix(leafUser:)``), never on
/// `_INBOX.>`: a leaf that could subscribe to every inbox would see the centers' replies and
/// every other leaf's watcher deliveries, whose subjects name the watcher's consumer, and
/// could then delete that consumer (`CONSUMER.DELETE` is allowed, since the watcher deletes
/// its own). Consumer names are random, so a leaf that cannot see them cannot delete another
/// node's. Leaves that share one credential share its prefix, and so can see each other's.
enum LeafPermissions {
    /// The inbox prefix of the presence connections of a leaf that presents `leafUser` (nil:
    /// a leaf without credential, on a loopback leafnode port): `_INBOX_LEAF.<user>`, the user
    /// written as one subject token (as it is when it has only letters, digits, `-` and `_`;
    /// otherwise `=` and its UTF-8 bytes in hex, so two users never share a prefix).
    static func inboxPrefix(leafUser: String?) -> String {
        guard let user = leafUser else { return "_INBOX_LEAF" }
        let plain = !user.isEmpty && user.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
        let token = plain ? user : "=" + user.utf8.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        return "_INBOX_LEAF." + token
    }

    /// The audit stream (SPEC §3c), whose subjects are `presence-audit.<shard>` (`0` … `f`).
    static let auditStream = "presence-audit"  // PresenceStore's AuditStream.name

    /// Subjects a leaf may publish to (with `heartbeats`, the heartbeat plane's subject).
    static func publish(bucket: String, domain: String, heartbeats: String? = nil) -> [String] {
        let stream = "KV_" + bucket
        let api = [
            "INFO",  // account info: the leaf's reachability probe
            "STREAM.INFO.\(stream)",  // bind the bucket, read its state
            "STREAM.NAMES",  // the watcher looks its stream up by subject
            "STREAM.MSG.GET.\(stream)",  // get a record
            "DIRECT.GET.\(stream)", "DIRECT.GET.\(stream).>",  // get a record (direct)
            "CONSUMER.CREATE.\(stream)", "CONSUMER.CREATE.\(stream).>",  // the watcher
            "CONSUMER.INFO.\(stream).>", "CONSUMER.DELETE.\(stream).>",
            // The audit stream: read by `GET /api/v2/audit` on a leaf (an ephemeral pull consumer).
            "STREAM.INFO.\(auditStream)", "CONSUMER.CREATE.\(auditStream)", "CONSUMER.CREATE.\(auditStream).>",
            "CONSUMER.INFO.\(auditStream).>", "CONSUMER.DELETE.\(auditStream).>", "CONSUMER.MSG.NEXT.\(auditStream).>",
        ]
        var subjects: [String] = []
        for prefix in ["$JS.API.", "$JS.\(domain).API."] {
            subjects += api.map { prefix + $0 }
        }
        subjects += [
            "$KV.\(bucket).>", "$JS.\(domain).API.$KV.\(bucket).>",  // writes (puts with compare-and-set)
            "$JS.FC.\(stream).>",  // flow-control answers of the watcher
            auditStream + ".>",  // audit entries (appended, never read back through this subject)
        ]
        if let heartbeats { subjects.append(heartbeats) }  // the node's heartbeat batches
        return subjects
    }

    /// Subjects a leaf may subscribe to: replies and watcher deliveries (both on its own
    /// inboxes), nats-server's own leafnode loop detection, and with `heartbeats` the
    /// heartbeat plane (every other node's batches).
    static func subscribe(leafUser: String?, heartbeats: String? = nil) -> [String] {
        [inboxPrefix(leafUser: leafUser) + ".>", "$LDS.>"] + (heartbeats.map { [$0] } ?? [])
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
