/// A JSON value with a canonical byte encoding.
///
/// Event ids are hashes of bytes, so the encoding must not depend on a
/// platform's JSONEncoder (Foundation escapes `/` on some platforms and not on
/// others). The canonical form, documented in docs/FORMATS.md:
/// - no whitespace anywhere;
/// - object keys sorted by their UTF-8 bytes, each key once;
/// - strings: `"` and `\` escaped as `\"` and `\\`, U+0000...U+001F as `\u00xx`
///   (lowercase hex), everything else as raw UTF-8;
/// - numbers: integers only, in plain decimal (`-12`, `0`);
/// - `true`, `false`, `null`.
package enum JSON: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([JSON])
    case object([String: JSON])
    /// A number with a fraction or an exponent, or an integer beyond 64
    /// bits, as written. Only
    /// `parse(_:allowingFractions: true)` makes one (the registry reads any
    /// valid JSON body); nothing in an event can hold one, so decoding an
    /// event that has one fails, and no canonical encoding ever has one.
    case fraction(String)
}

// MARK: - Accessors

extension JSON {
    package subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    package var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    package var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }

    package var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    package var objectValue: [String: JSON]? {
        if case .object(let o) = self { return o }
        return nil
    }

    package var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

// MARK: - Canonical encoding

extension JSON {
    /// The canonical bytes (see the type's documentation).
    package var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out, pretty: false, indent: 0)
        return out
    }

    package var canonicalString: String { String(decoding: canonicalBytes, as: UTF8.self) }

    /// Human-readable output for `--json`: same key order, two-space indent.
    package var prettyString: String {
        var out: [UInt8] = []
        write(into: &out, pretty: true, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(into out: inout [UInt8], pretty: Bool, indent: Int) {
        switch self {
        case .null: out.append(contentsOf: Array("null".utf8))
        case .bool(let b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
        case .int(let i): out.append(contentsOf: Array(String(i).utf8))
        case .fraction(let text): out.append(contentsOf: Array(text.utf8))
        case .string(let s): JSON.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { JSON.newline(&out, indent + 1) }
                item.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty && !items.isEmpty { JSON.newline(&out, indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            for (n, key) in keys.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { JSON.newline(&out, indent + 1) }
                JSON.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                members[key]!.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty && !keys.isEmpty { JSON.newline(&out, indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], _ indent: Int) {
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

// MARK: - Parsing

package struct JSONParseError: Error, CustomStringConvertible, Sendable {
    package let offset: Int
    package let reason: String
    package var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSON {
    /// Parses any RFC 8259 JSON document whose numbers are integers.
    package static func parse(_ text: String) throws -> JSON { try parse(Array(text.utf8)) }

    /// With `allowingFractions`, a number such as `1.5` or `2e3` is read as
    /// `.fraction`; without, it is refused (events hold integers only).
    package static func parse(_ bytes: [UInt8], allowingFractions: Bool = false) throws -> JSON {
        var parser = Parser(bytes: bytes, allowingFractions: allowingFractions)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.pos == bytes.count else { throw parser.fail("trailing characters") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        let allowingFractions: Bool
        var pos = 0

        init(bytes: [UInt8], allowingFractions: Bool) {
            self.bytes = bytes
            self.allowingFractions = allowingFractions
        }

        func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: pos, reason: reason) }

        mutating func skipSpace() {
            while pos < bytes.count {
                let b = bytes[pos]
                guard b == 32 || b == 10 || b == 9 || b == 13 else { return }
                pos += 1
            }
        }

        mutating func literal(_ word: String, _ value: JSON) throws -> JSON {
            let w = Array(word.utf8)
            guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else {
                throw fail("unexpected character")
            }
            pos += w.count
            return value
        }

        mutating func value(depth: Int) throws -> JSON {
            guard depth < 256 else { throw fail("nested too deeply") }
            guard pos < bytes.count else { throw fail("unexpected end") }
            switch bytes[pos] {
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                pos += 1
                var items: [JSON] = []
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard pos < bytes.count else { throw fail("unterminated array") }
                    if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                    if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                    throw fail("expected , or ]")
                }
            case UInt8(ascii: "{"):
                pos += 1
                var members: [String: JSON] = [:]
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                    let key = try string()
                    skipSpace()
                    guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected :") }
                    pos += 1
                    skipSpace()
                    guard members[key] == nil else { throw fail("duplicate key \(key)") }
                    members[key] = try value(depth: depth + 1)
                    skipSpace()
                    guard pos < bytes.count else { throw fail("unterminated object") }
                    if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                    if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
                    throw fail("expected , or }")
                }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = pos
                if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
                while pos < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) { pos += 1 }
                if pos < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[pos]) {
                    guard allowingFractions else { throw fail("only integers are allowed") }
                    return .fraction(try fraction(from: start))
                }
                guard let n = Int64(String(decoding: bytes[start..<pos], as: UTF8.self)) else {
                    // Beyond 64 bits: valid JSON, kept as written where fractions are.
                    guard allowingFractions, pos > start + (bytes[start] == UInt8(ascii: "-") ? 1 : 0) else { throw fail("bad number") }
                    return .fraction(String(decoding: bytes[start..<pos], as: UTF8.self))
                }
                return .int(n)
            default:
                throw fail("unexpected character")
            }
        }

        /// The rest of a number after its integer digits (JSON's grammar:
        /// `.digits` then `e[+-]digits`, each optional but not empty).
        mutating func fraction(from start: Int) throws -> String {
            func digits() throws {
                let first = pos
                while pos < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) { pos += 1 }
                guard pos > first else { throw fail("bad number") }
            }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
                pos += 1
                try digits()
            }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
                pos += 1
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
                try digits()
            }
            return String(decoding: bytes[start..<pos], as: UTF8.self)
        }

        mutating func hex4() throws -> UInt32 {
            guard pos + 4 <= bytes.count,
                  let v = UInt32(String(decoding: bytes[pos..<pos + 4], as: UTF8.self), radix: 16)
            else { throw fail("bad \\u escape") }
            pos += 4
            return v
        }

        mutating func string() throws -> String {
            pos += 1
            // Most strings have no escape: read them in one piece.
            let start = pos
            while pos < bytes.count {
                let b = bytes[pos]
                if b == UInt8(ascii: "\"") {
                    pos += 1
                    return String(decoding: bytes[start..<pos - 1], as: UTF8.self)
                }
                if b == UInt8(ascii: "\\") || b < 0x20 { break }
                pos += 1
            }
            var out = Array(bytes[start..<pos])
            while true {
                guard pos < bytes.count else { throw fail("unterminated string") }
                let b = bytes[pos]
                pos += 1
                switch b {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard pos < bytes.count else { throw fail("unterminated escape") }
                    let e = bytes[pos]
                    pos += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(34)
                    case UInt8(ascii: "\\"): out.append(92)
                    case UInt8(ascii: "/"): out.append(47)
                    case UInt8(ascii: "b"): out.append(8)
                    case UInt8(ascii: "f"): out.append(12)
                    case UInt8(ascii: "n"): out.append(10)
                    case UInt8(ascii: "r"): out.append(13)
                    case UInt8(ascii: "t"): out.append(9)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard pos + 2 <= bytes.count, bytes[pos] == 92, bytes[pos + 1] == UInt8(ascii: "u") else {
                                throw fail("lone surrogate")
                            }
                            pos += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw fail("bad surrogate pair") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw fail("bad code point") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default: throw fail("bad escape")
                    }
                case 0..<0x20: throw fail("control character in string")
                default: out.append(b)
                }
            }
        }
    }
}
