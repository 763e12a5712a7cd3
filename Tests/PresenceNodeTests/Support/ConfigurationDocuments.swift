import Foundation

@testable import PresenceNode

/// The documents that list the configuration keys, rendered from ``ConfigurationKeys``: the
/// key table of `docs/configuration.md` and `config/standalone.yaml`. Tests compare the files
/// with these texts; `UPDATE_CONFIG_DOCS=1 swift test --filter ConfigurationTable` rewrites the
/// files instead.
enum ConfigurationDocuments {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The file that holds the key table, from the repository's root.
    static let tablePath = "docs/configuration.md"
    static let tableBegin = "<!-- configuration keys: generated from ConfigurationKeys, checked by a test -->"
    static let tableEnd = "<!-- end of configuration keys -->"

    /// The key table of `docs/configuration.md`: key, default, allowed values, flag, meaning.
    static var keyTable: String {
        var lines = [
            tableBegin,
            "| Key | Default | Allowed | Flag | What it sets |",
            "|---|---|---|---|---|",
        ]
        for key in ConfigurationKeys.all {
            let defaultText = key.isDefaultInWords ? key.defaultText : "`\(key.defaultText)`"
            let flag = key.flag.map { "`--\($0)`" } ?? ""
            let doc = key.doc + (key.isSecret ? " Secret: never logged." : "")
            lines.append("| `\(key.path)` | \(defaultText) | \(key.allowed ?? "") | \(flag) | \(doc) |")
        }
        lines.append(tableEnd)
        return lines.joined(separator: "\n")
    }

    /// `config/standalone.yaml`: every key at its default, with its line of documentation.
    static var referenceYAML: String {
        var lines = [
            "# A standalone center with every key at its default, generated from ConfigurationKeys",
            "# (a test keeps them equal; see docs/configuration.md). Start with:",
            "#   JWT_SECRET=... presence serve --config config/standalone.yaml",
        ]
        var open: [String] = []
        for key in ConfigurationKeys.all {
            let components = key.path.split(separator: ".").map(String.init)
            let parents = Array(components.dropLast())
            var common = 0
            while common < min(open.count, parents.count), open[common] == parents[common] { common += 1 }
            open = Array(open.prefix(common))
            for component in parents.dropFirst(common) {
                lines.append(String(repeating: "  ", count: open.count) + component + ":")
                open.append(component)
            }
            let indent = String(repeating: "  ", count: open.count)
            let name = components.last ?? key.path
            var comment = key.doc
            if let allowed = key.allowed { comment += " Allowed: \(allowed)." }
            let entry: String
            if key.isDefaultInWords {
                entry = indent + "# \(name):"
                comment = "Default: \(key.defaultText). " + comment
            } else {
                entry = indent + "\(name): \(key.example ?? key.defaultText)"
            }
            lines.append(entry.padding(toLength: max(entry.count + 1, 40), withPad: " ", startingAt: 0) + "# " + comment)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The text between the key table's markers, markers included (nil when they are missing).
    static func tableSection(of document: String) -> String? {
        guard let begin = document.range(of: tableBegin), let end = document.range(of: tableEnd) else { return nil }
        return String(document[begin.lowerBound..<end.upperBound])
    }

    /// Whether the tests should rewrite the documents rather than compare them.
    static var updating: Bool { ProcessInfo.processInfo.environment["UPDATE_CONFIG_DOCS"] == "1" }
}
