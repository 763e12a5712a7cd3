import Foundation
import PresenceCore
import Logging
import NIOConcurrencyHelpers

/// A swift-log handler writing one structured line per event to standard output: logfmt
/// (`ts=… level=info msg="…" key=value`) by default, or one JSON object per line.
///
/// swift-log ships only a plain-text handler; this one is small enough to keep here rather
/// than pull in a logging backend package.
public struct StructuredLogHandler: LogHandler {
    /// The line format.
    public enum Format: String, Sendable {
        case logfmt, json
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let format: Format
    private let output: @Sendable (String) -> Void

    /// A handler for `label` at `level` in `format`, writing to standard output unless `output` is given.
    public init(
        label: String, level: Logger.Level, format: Format,
        output: @escaping @Sendable (String) -> Void = StructuredLogHandler.standardOutput
    ) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", Self.timestamp()), ("level", event.level.rawValue), ("msg", event.message.description),
        ]
        var merged = metadata
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        if merged["component"] == nil { fields.append(("component", event.source)) }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { fields.append((key, "\(value)")) }
        output(format == .json ? Self.json(fields) : Self.logfmt(fields))
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let needsQuotes = value.isEmpty
                || value.unicodeScalars.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F }
            return needsQuotes ? "\(key)=\(quote(value))" : "\(key)=\(value)"
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, String)]) -> String {
        var out = "{"
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { out += "," }
            out += quote(key) + ":" + quote(value)
        }
        return out + "}"
    }

    /// A quoted value, escaped as a JSON string (logfmt quotes values the same way).
    private static func quote(_ text: String) -> String { JSONString.quoted(text) }

    private static func timestamp() -> String { Timestamp.now().rfc3339 }

    private static let lock = NIOLock()

    /// Writes a line to standard output, whole, even from many threads.
    public static let standardOutput: @Sendable (String) -> Void = { line in
        let data = Array((line + "\n").utf8)
        lock.withLock {
            data.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                var offset = 0
                while offset < buffer.count {
                    let written = write(1, base + offset, buffer.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
    }
}
