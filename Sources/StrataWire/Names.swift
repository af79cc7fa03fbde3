import StrataCore

/// The names the registry accepts for projects, environments and nodes:
/// 1 to 64 of `A-Z a-z 0-9 . _ -`, but not `.` or `..` (docs/openapi.yaml
/// declares the pattern, without the dot segments: a client resolves them
/// in a URL before the server sees them).
/// Anything else would end up in URLs, logs and pages as it came.
public enum Names {
    public static let pattern = "^[A-Za-z0-9._-]{1,64}$"

    public static func isValid(_ name: String) -> Bool {
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
    public static func check(_ name: String, _ what: String) throws -> String {
        guard isValid(name) else {
            throw WireError("\(what) name \(printable(name)) is not allowed: use 1 to 64 letters, digits, '.', '_' or '-'")
        }
        return name
    }

    /// A name as it can be shown in a message: control characters escaped, at most 80 characters.
    static func printable(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars.prefix(80) {
            out += scalar.value < 0x20 || scalar.value == 0x7F || isBidiControl(scalar) ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }
        return "\"" + out + (name.unicodeScalars.count > 80 ? "…" : "") + "\""
    }

    /// Text with no control characters (a database path in a report), and
    /// none of the bidirectional overrides that make text read otherwise
    /// than it is (U+202E shows `gpj.exe` as `exe.jpg`).
    public static func isPrintable(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || isBidiControl($0) }
    }

    static func isBidiControl(_ s: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(s.value) || (0x2066...0x2069).contains(s.value) || s.value == 0x200E || s.value == 0x200F || s.value == 0x061C
    }

    /// Text as a page or a terminal may show it: bidirectional controls and
    /// control characters (but tab and line breaks) written as `\u{202e}`.
    public static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r") || $0.value == 0x7F || isBidiControl($0) }) else {
            return text
        }
        var out = ""
        for scalar in text.unicodeScalars {
            let hidden = (scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r") || scalar.value == 0x7F || isBidiControl(scalar)
            out += hidden ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }
        return out
    }
}
