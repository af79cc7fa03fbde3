import StrataCore

/// The names the registry accepts for projects, environments and nodes:
/// 1 to 64 of `A-Z a-z 0-9 . _ -` (docs/openapi.yaml declares the pattern).
/// Anything else would end up in URLs, logs and pages as it came.
public enum Names {
    public static let pattern = "^[A-Za-z0-9._-]{1,64}$"

    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
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
            out += scalar.value < 0x20 || scalar.value == 0x7F ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }
        return "\"" + out + (name.unicodeScalars.count > 80 ? "…" : "") + "\""
    }

    /// Text with no control characters (a database path in a report).
    public static func isPrintable(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
}
