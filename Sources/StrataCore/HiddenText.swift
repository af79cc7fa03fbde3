/// Characters that make text show otherwise than it is: control characters
/// (a newline in a file name starts a fake line of output) and the
/// bidirectional overrides (U+202E shows `gpj.exe` as `exe.jpg`). Messages,
/// pages and terminals show them escaped, as `\u{202e}`.
package enum HiddenText {
    package static func isHidden(_ s: Unicode.Scalar, keepingLineBreaks: Bool = false) -> Bool {
        if keepingLineBreaks && (s == "\t" || s == "\n" || s == "\r") { return false }
        return s.value < 0x20 || s.value == 0x7F || isBidiControl(s)
    }

    static func isBidiControl(_ s: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(s.value) || (0x2066...0x2069).contains(s.value) || s.value == 0x200E || s.value == 0x200F || s.value == 0x061C
    }

    /// No hidden character at all (line breaks included).
    package static func isPrintable(_ text: String) -> Bool { !text.unicodeScalars.contains { isHidden($0) } }

    /// `text` with each hidden character written as `\u{HEX}`.
    package static func escaped(_ text: String, keepingLineBreaks: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { isHidden($0, keepingLineBreaks: keepingLineBreaks) }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            out += isHidden(scalar, keepingLineBreaks: keepingLineBreaks) ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }
        return out
    }
}
