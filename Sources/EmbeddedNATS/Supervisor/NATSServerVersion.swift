import Foundation

/// A nats-server release number, read from `nats-server --version` (`nats-server: v2.9.10`).
struct NATSServerVersion: Comparable, CustomStringConvertible {
    let major: Int
    let minor: Int
    let patch: Int

    /// Parses `v2.9.10` or `2.9.10` anywhere in `text`.
    init?(parsing text: String) {
        guard let token = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first(where: { $0.contains(".") }) else {
            return nil
        }
        let numbers = token.drop { $0 == "v" }.split(separator: ".").map { Int($0.prefix { $0.isNumber }) }
        guard numbers.count >= 3, let major = numbers[0], let minor = numbers[1], let patch = numbers[2] else { return nil }
        self.init(major, minor, patch)
    }

    init(_ major: Int, _ minor: Int, _ patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }

    var description: String { "\(major).\(minor).\(patch)" }

    /// Whether the hub itself checks a leaf user's publish permissions (fixed upstream in
    /// 2.11.16, 2.12.7 and 2.14.0: before, only the leaf's own server enforced them).
    var enforcesLeafPermissionsAtTheHub: Bool {
        switch (major, minor) {
        case (2, 11): return patch >= 16
        case (2, 12): return patch >= 7
        case (2, 13): return false
        default: return self >= NATSServerVersion(2, 14, 0)
        }
    }
}
