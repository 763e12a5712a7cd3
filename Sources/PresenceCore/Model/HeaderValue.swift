/// Header field values: the one place where they are trimmed and split into list elements,
/// for the HTTP routes and for the bearer token `TokenVerifier` takes out of `Authorization`
/// (hence here, below both; `package`: not part of the domain's API).
///
/// RFC 9110 §5.5 and §5.6.1: the optional whitespace around a value and around the elements
/// of a comma-separated list is spaces and horizontal tabs, nothing else.
package enum HeaderValue {
    /// `text` without leading and trailing spaces and tabs.
    package static func trimmed(_ text: Substring) -> Substring {
        // By scalar, not by Character: a space followed by a combining mark is one Character.
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, isWhitespace(scalars[start]) { start = scalars.index(after: start) }
        while start < end, isWhitespace(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        return Substring(scalars[start..<end])
    }

    /// `text` without leading and trailing spaces and tabs.
    package static func trimmed(_ text: String) -> Substring { trimmed(text[...]) }

    /// The elements of a comma-separated list value (`"41", W/"42"`), each trimmed; empty
    /// elements are dropped, as RFC 9110 §5.6.1 asks of recipients.
    package static func list(_ value: String) -> [Substring] {
        value.split(separator: ",").map(trimmed).filter { !$0.isEmpty }
    }

    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" }
}
