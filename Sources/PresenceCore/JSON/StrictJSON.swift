/// A strict RFC 8259 parser for request bodies and token headers.
///
/// Lenient decoders accept trailing commas and let a repeated key silently win, so
/// `{"status":"online",}` or `{"status":"online","status":"bogus"}` would be taken as valid.
/// This parser refuses both, as well as comments, `NaN`, leading zeros, bad escapes, raw
/// control characters, invalid UTF-8, trailing data and nesting deeper than 32 levels.
/// Hand-written because it is on every write: Foundation's `JSONDecoder` cost more than the
/// rest of a PUT's validation together.
enum StrictJSON {
    /// The value `bytes` hold, nil when they are not exactly one JSON value under those rules.
    static func parse(_ bytes: [UInt8]) -> JSONValue? {
        var scanner = Scanner(bytes: bytes)
        guard let value = scanner.value(depth: 0) else { return nil }
        scanner.skipWhitespace()
        return scanner.index == bytes.count ? value : nil
    }

    /// The integer a number literal with a fraction or an exponent denotes exactly, nil
    /// when it denotes none (or one outside `Int`).
    static func exactInteger(_ text: String) -> Int? {
        var rest = Substring(text)
        let negative = rest.first == "-"
        if negative { rest = rest.dropFirst() }
        var exponent = 0
        if let e = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let value = Int(rest[rest.index(after: e)...]), abs(value) < 1000 else { return nil }
            exponent = value
            rest = rest[..<e]
        }
        var digits = rest
        var fractionLength = 0
        if let dot = rest.firstIndex(of: ".") {
            fractionLength = rest.distance(from: rest.index(after: dot), to: rest.endIndex)
            digits = rest[..<dot] + rest[rest.index(after: dot)...]
        }
        let shift = exponent - fractionLength
        var significant = String(digits.drop { $0 == "0" })
        if significant.isEmpty { return 0 }
        if shift < 0 {
            let dropped = significant.suffix(-shift)
            guard dropped.count == -shift || significant.count < -shift, dropped.allSatisfy({ $0 == "0" }) else {
                return nil
            }
            significant = String(significant.dropLast(-shift))
            if significant.isEmpty { return 0 }
        } else {
            guard significant.count + shift <= 19 else { return nil }
            significant += String(repeating: "0", count: shift)
        }
        return Int((negative ? "-" : "") + significant)
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        static let maxDepth = 32

        init(bytes: [UInt8]) { self.bytes = bytes }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard current == byte else { return false }
            index += 1
            return true
        }

        mutating func value(depth: Int) -> JSONValue? {
            guard depth <= Self.maxDepth else { return nil }
            skipWhitespace()
            switch current {
            case UInt8(ascii: "{"): return object(depth: depth + 1)
            case UInt8(ascii: "["): return array(depth: depth + 1)
            case UInt8(ascii: "\""): return string().flatMap(Self.unescape).map { .string($0) }
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default: return number()
            }
        }

        mutating func object(depth: Int) -> JSONValue? {
            index += 1
            skipWhitespace()
            var fields: [String: JSONValue] = [:]
            if consume(UInt8(ascii: "}")) { return .object(fields) }
            while true {
                skipWhitespace()
                // Keys are compared unescaped: "st\u0061tus" repeats "status".
                guard let raw = string(), let key = Self.unescape(raw), fields[key] == nil else { return nil }
                skipWhitespace()
                guard consume(UInt8(ascii: ":")), let value = value(depth: depth) else { return nil }
                fields[key] = value
                skipWhitespace()
                if consume(UInt8(ascii: "}")) { return .object(fields) }
                guard consume(UInt8(ascii: ",")) else { return nil }
            }
        }

        mutating func array(depth: Int) -> JSONValue? {
            index += 1
            skipWhitespace()
            var elements: [JSONValue] = []
            if consume(UInt8(ascii: "]")) { return .array(elements) }
            while true {
                guard let element = value(depth: depth) else { return nil }
                elements.append(element)
                skipWhitespace()
                if consume(UInt8(ascii: "]")) { return .array(elements) }
                guard consume(UInt8(ascii: ",")) else { return nil }
            }
        }

        /// A string's raw bytes between the quotes (escapes kept as written), nil when invalid.
        mutating func string() -> ArraySlice<UInt8>? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return bytes[start..<(index - 1)]
                case UInt8(ascii: "\\"):
                    index += 1
                    guard let escaped = current else { return nil }
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        continue
                    case UInt8(ascii: "u"):
                        for _ in 0..<4 {
                            guard let hex = current, hex.isHexDigit else { return nil }
                            index += 1
                        }
                    default:
                        return nil
                    }
                case 0..<0x20:
                    return nil
                default:
                    index += 1
                }
            }
            return nil
        }

        /// The text of a string literal's raw contents (already checked by ``string()``), nil
        /// when they are not valid UTF-8.
        static func unescape(_ slice: ArraySlice<UInt8>) -> String? {
            guard slice.contains(UInt8(ascii: "\\")) else { return String(validating: slice, as: UTF8.self) }
            let raw = Array(slice)
            var scalars = String.UnicodeScalarView()
            var bytes: [UInt8] = []
            var index = 0
            var valid = true
            func flush() {
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    valid = false
                    return
                }
                scalars.append(contentsOf: text.unicodeScalars)
                bytes.removeAll()
            }
            func hex(at start: Int) -> UInt32? {
                guard start + 4 <= raw.count else { return nil }
                return UInt32(String(decoding: raw[start..<(start + 4)], as: UTF8.self), radix: 16)
            }
            while index < raw.count {
                guard raw[index] == UInt8(ascii: "\\"), index + 1 < raw.count else {
                    bytes.append(raw[index])
                    index += 1
                    continue
                }
                flush()
                let escaped = raw[index + 1]
                index += 2
                switch escaped {
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    guard var value = hex(at: index) else { return nil }
                    index += 4
                    if (0xD800...0xDBFF).contains(value), index + 6 <= raw.count, raw[index] == UInt8(ascii: "\\"),
                        raw[index + 1] == UInt8(ascii: "u"), let low = hex(at: index + 2), (0xDC00...0xDFFF).contains(low)
                    {
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                    // A lone surrogate is not a character: refused, as JSONDecoder did.
                    guard let scalar = Unicode.Scalar(value) else { return nil }
                    scalars.append(scalar)
                default: scalars.append(Unicode.Scalar(escaped))
                }
            }
            flush()
            return valid ? String(scalars) : nil
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard bytes.count - index >= expected.count, bytes[index..<(index + expected.count)].elementsEqual(expected)
            else { return false }
            index += expected.count
            return true
        }

        mutating func number() -> JSONValue? {
            let start = index
            var isInteger = true
            _ = consume(UInt8(ascii: "-"))
            if consume(UInt8(ascii: "0")) {
                if let next = current, next.isDigit { return nil }
            } else {
                guard let first = current, first.isDigit else { return nil }
                while let digit = current, digit.isDigit { index += 1 }
            }
            if consume(UInt8(ascii: ".")) {
                isInteger = false
                guard let first = current, first.isDigit else { return nil }
                while let digit = current, digit.isDigit { index += 1 }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard let first = current, first.isDigit else { return nil }
                while let digit = current, digit.isDigit { index += 1 }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if isInteger, let value = Int(text) { return .integer(value) }
            // `10.0` and `1e1` are the integer 10; `9.99999999999999999` is not, though it
            // rounds to 10.0 as a Double: decide on the decimal text, not the Double.
            if !isInteger, let value = StrictJSON.exactInteger(text) { return .integer(value) }
            return Double(text).map { .number($0) }
        }
    }
}

extension UInt8 {
    fileprivate var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
    fileprivate var isHexDigit: Bool {
        isDigit || (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "f")) || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "F"))
    }
}
