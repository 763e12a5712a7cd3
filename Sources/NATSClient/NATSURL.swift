/// NATS server URLs as they may be shown (in `/health/info`, in logs).
public enum NATSURL {
    /// `url` without the user and password of its authority: `nats://u:p@host:4222` →
    /// `nats://host:4222`. A URL without them is returned as it is.
    public static func withoutCredentials(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" }
        guard let at = authority.lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + String(rest[rest.index(after: at)...])
    }
}
