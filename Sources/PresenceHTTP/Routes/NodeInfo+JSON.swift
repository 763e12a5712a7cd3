import PresenceCore

extension NodeInfo {
    /// The body of `GET /health/info` (SPEC §6); optional fields that are nil are left out.
    var json: [UInt8] {
        var natsObject = JSONObjectWriter()
        natsObject.add("connected", nats.connected)
        if let serverURL = nats.serverURL { natsObject.add("server_url", serverURL) }
        natsObject.add("reconnects", nats.reconnects)
        natsObject.add("hub_reachable", nats.hubReachable)

        var cacheObject = JSONObjectWriter()
        cacheObject.add("entries", cache.entries)
        cacheObject.add("cost_bytes", cache.costBytes)
        cacheObject.add("hits", cache.hits)
        cacheObject.add("misses", cache.misses)
        cacheObject.add("evictions", cache.evictions)
        cacheObject.add("hit_ratio", cache.hitRatio)

        var body = JSONObjectWriter()
        body.add("node_id", nodeID)
        body.add("role", role)
        body.add("version", version)
        body.add("uptime_seconds", uptimeSeconds)
        body.add("nats", natsObject)
        body.add("cache", cacheObject)
        body.add("presence_count", presenceCount)
        if let leafnodes {
            body.add(
                "leafnodes",
                leafnodes.map { leaf in
                    var object = JSONObjectWriter()
                    object.add("name", leaf.name)
                    object.add("address", leaf.address)
                    return object
                })
        }
        if let cluster { body.add("cluster", cluster.json) }
        return body.finish()
    }
}

extension NodeInfo.Cluster {
    /// The `cluster` object of `/health/info`.
    var json: JSONObjectWriter {
        var object = JSONObjectWriter()
        object.add("name", name)
        object.add(
            "peers",
            peers.map { peer in
                var entry = JSONObjectWriter()
                entry.add("name", peer.name)
                entry.add("connected", peer.connected)
                return entry
            })
        if let leader { object.add("leader", leader) }
        object.add("bucket_replicas", bucketReplicas)
        object.add(
            "replicas",
            replicas.map { replica in
                var entry = JSONObjectWriter()
                entry.add("name", replica.name)
                entry.add("current", replica.current)
                entry.add("lag", replica.lag)
                return entry
            })
        return object
    }
}
