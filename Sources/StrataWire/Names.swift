import StrataCore

/// The names the registry accepts for projects, environments and nodes:
/// 1 to 64 of `A-Z a-z 0-9 . _ -`, but not `.` or `..` (docs/openapi.yaml
/// declares the pattern, without the dot segments: a client resolves them
/// in a URL before the server sees them).
/// Anything else would end up in URLs, logs and pages as it came.
package enum Names {
    package static let pattern = "^[A-Za-z0-9._-]{1,64}$"

    package static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        // `.` and `..` are path segments, not names (a URL would resolve them away).
        guard name != "." && name != ".." else { return false }
        return bytes.allSatisfy { b in
            (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 46 || b == 95 || b == 45
        }
    }

    /// `name`, or a WireError (400) that says what a `what` name may be.
    @discardableResult
    package static func check(_ name: String, _ what: String) throws -> String {
        guard isValid(name) else {
            throw WireError("\(what) name \(printable(name)) is not allowed: use 1 to 64 letters, digits, '.', '_' or '-'")
        }
        return name
    }

    /// A name as it can be shown in a message: control characters escaped, at most 80 characters.
    static func printable(_ name: String) -> String {
        let short = String(String.UnicodeScalarView(name.unicodeScalars.prefix(80)))
        return "\"" + HiddenText.escaped(short) + (name.unicodeScalars.count > 80 ? "…" : "") + "\""
    }

    /// Text with no control characters (a database path in a report), and
    /// no bidirectional overrides.
    package static func isPrintable(_ text: String) -> Bool { HiddenText.isPrintable(text) }

    /// Text as a page or a terminal may show it: bidirectional controls and
    /// control characters (but tab and line breaks) written as `\u{202e}`.
    package static func visible(_ text: String) -> String { HiddenText.escaped(text, keepingLineBreaks: true) }
}
