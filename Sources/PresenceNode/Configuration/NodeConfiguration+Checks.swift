extension NodeConfiguration {
    /// The rules that involve several keys (each key's own range is in ``ConfigurationKeys``).
    /// - Throws: ``ConfigurationError`` naming the keys.
    func checkKeysTogether() throws(ConfigurationError) {
        if (httpTLSCertFile == nil) != (httpTLSKeyFile == nil) {
            throw ConfigurationError("'service.http.tls.cert_file' and 'service.http.tls.key_file' must be set together")
        }
        if (leafTLSCertFile == nil) != (leafTLSKeyFile == nil) {
            throw ConfigurationError("'nats.leaf_tls.cert_file' and 'nats.leaf_tls.key_file' must be set together")
        }
        if role == .center, leafTLSCAFile != nil, leafTLSCertFile == nil {
            throw ConfigurationError("'nats.leaf_tls.cert_file' and 'key_file' are required on a center that uses leaf TLS")
        }
        if streamMaxTotalBufferedBytes < streamMaxBufferedBytes {
            throw ConfigurationError(
                "invalid value for 'stream.max_total_buffered_bytes': \(streamMaxTotalBufferedBytes) is below 'stream.max_buffered_bytes' (\(streamMaxBufferedBytes))"
            )
        }
        for entry in leafCredentials {
            guard let colon = entry.firstIndex(of: ":"), colon != entry.startIndex, entry.index(after: colon) != entry.endIndex
            else {
                throw ConfigurationError(
                    "invalid value for 'nats.leaf_credentials': each entry is user:password (with neither empty)")
            }
        }
        let leafUsers = leafCredentialPairs.map(\.user) + (leafUser.map { [$0] } ?? [])
        if Set(leafUsers).count != leafUsers.count {
            throw ConfigurationError(
                "invalid value for 'nats.leaf_credentials': a leaf user is listed twice (or is also 'nats.leaf_user')")
        }
        if role == .center && natsEmbedded && !Self.isLoopback(natsLeafnodeHost) && leafUser == nil && leafCredentials.isEmpty {
            throw ConfigurationError(
                "'nats.leafnode_host' is \(natsLeafnodeHost), but leaves do not authenticate: anyone reaching that address could write presence through NATS without a JWT. Set 'nats.leaf_user' and 'nats.leaf_password' (the leaf credential, which limits leaves to the presence records; add 'nats.leaf_tls' across networks), or keep 'nats.leafnode_host' on loopback"
            )
        }
        try checkCluster()
        for origin in corsAllowedOrigins where !Self.isOrigin(origin) {
            throw ConfigurationError(
                "invalid value for 'service.http.cors.allowed_origins': '\(origin)' is not an origin; write scheme://host[:port] without a path (https://app.example.com), or *"
            )
        }
        if role == .leaf && natsEmbedded && hubURLs.isEmpty {
            throw ConfigurationError("'nats.hub_urls' must list the center's leafnode URL(s) when 'service.role' is leaf")
        }
    }

    /// `*`, or `http(s)://host[:port]` as a browser sends it in `Origin`: no path, query,
    /// user or trailing slash, and no default port (a browser leaves `:443` and `:80` out,
    /// so such an entry could never match). Case does not matter.
    static func isOrigin(_ text: String) -> Bool {
        if text == "*" { return true }
        let lowered = text.lowercased()
        for (scheme, defaultPort) in [("https://", ":443"), ("http://", ":80")] where lowered.hasPrefix(scheme) {
            let rest = lowered.dropFirst(scheme.count)
            return !rest.isEmpty && !rest.hasSuffix(defaultPort)
                && !rest.contains { "/ *?#@".contains($0) }
        }
        return false
    }

    /// The rules of a clustered center's routes (SPEC §5: the route port is an open door to
    /// the JetStream API unless routes authenticate).
    private func checkCluster() throws(ConfigurationError) {
        if (routeTLSCertFile == nil) != (routeTLSKeyFile == nil) {
            throw ConfigurationError("'nats.route_tls.cert_file' and 'nats.route_tls.key_file' must be set together")
        }
        if routeTLSCAFile != nil, routeTLSCertFile == nil {
            throw ConfigurationError("'nats.route_tls.cert_file' and 'key_file' are required with 'nats.route_tls.ca_file'")
        }
        if (routeUser == nil) != (routePassword == nil) {
            throw ConfigurationError("'nats.route_user' and 'nats.route_password' must be set together")
        }
        if role == .center && natsEmbedded && !isClusteredCenter && replicas > 1 {
            throw ConfigurationError(
                "'nats.replicas' is \(replicas), but this center is not clustered ('nats.cluster.port' is 0): a standalone center keeps one copy. Set 'nats.cluster.port' and 'nats.cluster.routes' on every center, or 'nats.replicas: 1'"
            )
        }
        guard isClusteredCenter else { return }
        if !Self.isLoopback(clusterHost) && routeUser == nil && routeTLSCAFile == nil {
            throw ConfigurationError(
                "'nats.cluster.host' is \(clusterHost), but routes do not authenticate: anyone reaching that address could join the cluster and write presence without a JWT. Set 'nats.route_user' and 'nats.route_password' (the route credential; add 'nats.route_tls' across networks), or keep 'nats.cluster.host' on loopback"
            )
        }
        if clusterName.isEmpty || clusterName.contains(where: { $0 == " " || $0 == "\"" }) {
            throw ConfigurationError("invalid value for 'nats.cluster.name': '\(clusterName)' must be a non-empty word")
        }
        if replicas < 3 {
            throw ConfigurationError(
                "'nats.replicas' is \(replicas) on a clustered center: the bucket would live on fewer centers than it takes to lose one safely. Set 'nats.replicas: 3' (or 5) on every center"
            )
        }
    }

    /// Whether a listen address is on loopback only.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// ``leafCredentials`` as user and password (split at the first colon; entries without
    /// one are left out here and refused by ``checkKeysTogether()``).
    var leafCredentialPairs: [(user: String, password: String)] {
        leafCredentials.compactMap { entry in
            guard let colon = entry.firstIndex(of: ":") else { return nil }
            return (String(entry[..<colon]), String(entry[entry.index(after: colon)...]))
        }
    }
}
