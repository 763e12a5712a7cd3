extension ConfigValueFormat where Value == [String] {
    /// A list of NATS URLs (`scheme://host:port`) that go into nats-server's configuration:
    /// each one is checked here, so that a mistake is reported naming our key rather than by
    /// nats-server in words about its own file (`center:7422` without a scheme used to stop it
    /// with "reconnect should be converted to a duration").
    /// - Parameters:
    ///   - schemes: the schemes allowed, the first one the one to suggest.
    ///   - portOptional: schemes whose URLs may leave the port out (WebSocket: 80 and 443).
    static func natsURLs(schemes: [String], portOptional: Set<String> = []) -> Self {
        let list = Self.list
        return Self(
            type: .stringArray, allowed: nil,
            decode: { content throws(ConfigValueProblem) in
                let urls = try list.decode(content)
                for url in urls {
                    if let problem = NATSURLCheck.problem(url, schemes: schemes, portOptional: portOptional) {
                        throw ConfigValueProblem("'\(url)' \(problem)")
                    }
                }
                return urls
            },
            encode: list.encode)
    }
}

/// What is wrong with one NATS URL, in words that follow the URL.
enum NATSURLCheck {
    /// Nil when `url` has an allowed scheme, a host and (unless its scheme may leave it out) a
    /// port in 1…65535; otherwise why not, with what to write instead.
    static func problem(_ url: String, schemes: [String], portOptional: Set<String>) -> String? {
        let suggested = schemes.first ?? "nats"
        guard let separator = url.range(of: "://") else {
            return "has no scheme: write \(suggested)://\(url)"
        }
        let scheme = url[..<separator.lowerBound].lowercased()
        guard schemes.contains(scheme) else {
            return "has the scheme '\(scheme)': use \(schemes.joined(separator: ", "))"
        }
        var authority = url[separator.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let host: Substring
        let rest: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return "has an unterminated [IPv6] host" }
            host = authority[authority.index(after: authority.startIndex)..<close]
            rest = authority[authority.index(after: close)...]
        } else {
            let colon = authority.firstIndex(of: ":") ?? authority.endIndex
            host = authority[..<colon]
            rest = authority[colon...]
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "," }) else { return "has no host" }
        if rest.isEmpty { return portOptional.contains(scheme) ? nil : "has no port" }
        guard rest.hasPrefix(":") else { return "has no valid port ('\(rest)')" }
        let digits = rest.dropFirst()
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let port = Int(digits) else {
            return "has no valid port ('\(digits)')"
        }
        guard (1...65_535).contains(port) else { return "has the port \(port), outside 1…65535" }
        return nil
    }
}
