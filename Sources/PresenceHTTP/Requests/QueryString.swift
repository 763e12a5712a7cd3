/// Reads query parameters exactly: percent-decoding only, `+` stays a plus (user ids may contain it).
enum QueryString {
    /// The decoded value of the first `name=` parameter, nil when absent.
    static func value(of name: String, in query: String?) -> String? {
        guard let query else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.first.flatMap(PercentDecoding.decode) == name else { continue }
            let raw = parts.count > 1 ? String(parts[1]) : ""
            return PercentDecoding.decode(raw) ?? raw
        }
        return nil
    }
}
