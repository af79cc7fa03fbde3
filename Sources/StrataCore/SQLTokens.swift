import Foundation

/// A lexical token of SQLite's SQL dialect.
///
/// strata never parses SQL semantics itself (SQLite is the parser); it only
/// needs tokens to normalise expression text, to read the few facts PRAGMAs do
/// not expose (CHECK, COLLATE, AUTOINCREMENT, a partial index's WHERE) and to
/// quote identifiers.
package struct SQLToken: Hashable, Sendable {
    package enum Kind: Hashable, Sendable {
        case word          // keyword or bare identifier
        case quotedName    // "x", `x` or [x]
        case string        // 'x'
        case number
        case blob          // X'..'
        case variable      // ?, ?1, :a, @a, $a
        case punct         // ( ) , ; . and operators
    }

    package var kind: Kind
    package var text: String

    package init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = text
    }

    /// The identifier this token names, unquoted (nil for non-names).
    package var identifier: String? {
        switch kind {
        case .word: return text
        case .quotedName: return SQL.unquote(text)
        default: return nil
        }
    }

    package func isKeyword(_ word: String) -> Bool {
        kind == .word && SQL.sameName(text, word)
    }
}

package struct SQLLexError: Error, CustomStringConvertible, Sendable {
    package let reason: String
    package var description: String { reason }
}

package enum SQL {
    // MARK: - Tokenizing

    /// Splits SQL text into tokens; comments and whitespace are dropped.
    /// With `limit`, stops after that many tokens (a statement's first
    /// words, without reading the rest of it).
    package static func tokenize(_ text: String, limit: Int = .max) throws -> [SQLToken] {
        // Bytes, each seen as a scalar: every byte of a non-ASCII character
        // is 0x80 or more (an identifier character, as SQLite has it) and
        // never a quote, so the scan is the same as over characters, and a
        // token's text is a slice of the bytes (building it scalar by
        // scalar was most of the tokenizer's time).
        let bytes = Array(text.utf8)
        let s = bytes.map { Unicode.Scalar($0) }
        var tokens: [SQLToken] = []
        var i = 0
        func isIdStart(_ c: Unicode.Scalar) -> Bool {
            c == "_" || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c.value >= 0x80
        }
        func isIdChar(_ c: Unicode.Scalar) -> Bool { isIdStart(c) || (c >= "0" && c <= "9") || c == "$" }
        func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
        func slice(_ a: Int, _ b: Int) -> String { String(decoding: bytes[a..<b], as: UTF8.self) }
        func scanQuoted(_ close: Unicode.Scalar, doubling: Bool) throws -> Int {
            var j = i + 1
            while j < s.count {
                if s[j] == close {
                    if doubling, j + 1 < s.count, s[j + 1] == close { j += 2; continue }
                    return j + 1
                }
                j += 1
            }
            throw SQLLexError(reason: "unterminated quote starting at byte \(i)")
        }
        while i < s.count, tokens.count < limit {
            let c = s[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" { i += 1; continue }
            if c == "-", i + 1 < s.count, s[i + 1] == "-" {
                while i < s.count, s[i] != "\n" { i += 1 }
                continue
            }
            if c == "/", i + 1 < s.count, s[i + 1] == "*" {
                i += 2
                while i < s.count, !(s[i] == "*" && i + 1 < s.count && s[i + 1] == "/") { i += 1 }
                i = min(i + 2, s.count)
                continue
            }
            if (c == "x" || c == "X"), i + 1 < s.count, s[i + 1] == "'" {
                let start = i
                i += 1
                let end = try scanQuoted("'", doubling: false)
                tokens.append(SQLToken(.blob, slice(start, end)))
                i = end
                continue
            }
            if isIdStart(c) {
                let start = i
                while i < s.count, isIdChar(s[i]) { i += 1 }
                tokens.append(SQLToken(.word, slice(start, i)))
                continue
            }
            if isDigit(c) || (c == "." && i + 1 < s.count && isDigit(s[i + 1])) {
                let start = i
                if c == "0", i + 1 < s.count, s[i + 1] == "x" || s[i + 1] == "X" {
                    i += 2
                    while i < s.count, s[i].properties.isASCIIHexDigit { i += 1 }
                } else {
                    while i < s.count, isDigit(s[i]) || s[i] == "." || s[i] == "_" { i += 1 }
                    if i < s.count, s[i] == "e" || s[i] == "E" {
                        i += 1
                        if i < s.count, s[i] == "+" || s[i] == "-" { i += 1 }
                        while i < s.count, isDigit(s[i]) { i += 1 }
                    }
                }
                tokens.append(SQLToken(.number, slice(start, i)))
                continue
            }
            switch c {
            case "'":
                let end = try scanQuoted("'", doubling: true)
                tokens.append(SQLToken(.string, slice(i, end)))
                i = end
            case "\"", "`":
                let end = try scanQuoted(c, doubling: true)
                tokens.append(SQLToken(.quotedName, slice(i, end)))
                i = end
            case "[":
                let end = try scanQuoted("]", doubling: false)
                tokens.append(SQLToken(.quotedName, slice(i, end)))
                i = end
            case "?", ":", "@", "$":
                let start = i
                i += 1
                while i < s.count, isIdChar(s[i]) { i += 1 }
                tokens.append(SQLToken(.variable, slice(start, i)))
            default:
                let next: Unicode.Scalar = i + 1 < s.count ? s[i + 1] : " "
                let pair = (c, next)
                if pair == ("<", "=") || pair == (">", "=") || pair == ("<", ">") || pair == ("!", "=") || pair == ("=", "=")
                    || pair == ("|", "|") || pair == ("<", "<") || pair == (">", ">") || pair == ("-", ">") {
                    if pair == ("-", ">"), i + 2 < s.count, s[i + 2] == ">" {
                        tokens.append(SQLToken(.punct, "->>"))
                        i += 3
                    } else {
                        tokens.append(SQLToken(.punct, slice(i, i + 2)))
                        i += 2
                    }
                } else {
                    tokens.append(SQLToken(.punct, String(c)))
                    i += 1
                }
            }
        }
        return tokens
    }

    // MARK: - Normalised text

    /// Joins tokens with single spaces, but none inside parentheses' edges,
    /// before commas or around dots. Idempotent: tokenizing the result and
    /// joining again gives the same text.
    package static func join(_ tokens: some Collection<SQLToken>) -> String {
        var out = ""
        var previous: SQLToken?
        var beforePrevious: SQLToken?
        for token in tokens {
            if let p = previous {
                // A sign is unary when nothing that ends an operand precedes it.
                let unarySign = (p.text == "-" || p.text == "+") && p.kind == .punct && token.kind == .number
                    && (beforePrevious == nil || (beforePrevious!.kind == .punct && beforePrevious!.text != ")")
                        || (beforePrevious!.kind == .word && isKeyword(beforePrevious!.text)))
                let tight = p.text == "(" || p.text == "." || token.text == ")" || token.text == ","
                    || token.text == "." || token.text == ";" || unarySign
                    || (token.text == "(" && p.kind != .punct && !(p.kind == .word && isKeyword(p.text)))
                if !tight { out += " " }
            }
            out += token.text
            beforePrevious = previous
            previous = token
        }
        return out
    }

    /// Normalises an SQL fragment's whitespace and comments away.
    package static func normalize(_ text: String) -> String {
        guard let tokens = try? tokenize(text) else { return text }
        return join(tokens)
    }

    /// Splits at top-level commas (not inside parentheses).
    package static func splitTopLevel(_ tokens: ArraySlice<SQLToken>, separator: String = ",") -> [ArraySlice<SQLToken>] {
        var parts: [ArraySlice<SQLToken>] = []
        var depth = 0
        var start = tokens.startIndex
        for i in tokens.indices {
            let t = tokens[i]
            if t.kind == .punct {
                if t.text == "(" { depth += 1 } else if t.text == ")" { depth -= 1 } else if t.text == separator && depth == 0 {
                    parts.append(tokens[start..<i])
                    start = i + 1
                }
            }
        }
        parts.append(tokens[start..<tokens.endIndex])
        return parts
    }

    /// The index of the parenthesis closing the one at `open`.
    package static func matchingParen(_ tokens: [SQLToken], from open: Int) -> Int? {
        var depth = 0
        var i = open
        while i < tokens.count {
            if tokens[i].kind == .punct {
                if tokens[i].text == "(" { depth += 1 }
                if tokens[i].text == ")" {
                    depth -= 1
                    if depth == 0 { return i }
                }
            }
            i += 1
        }
        return nil
    }

    /// Whether `name` appears as an identifier token in `text` (case-insensitive).
    package static func mentions(_ text: String, name: String) -> Bool {
        guard let tokens = try? tokenize(text) else { return false }
        return tokens.contains { $0.identifier.map { SQL.sameName($0, name) } ?? false }
    }

    /// Replaces identifier tokens naming `old` with `new`, keeping their quoting style.
    package static func renamingIdentifier(in text: String, from old: String, to new: String) -> String {
        guard var tokens = try? tokenize(text) else { return text }
        for i in tokens.indices {
            guard let name = tokens[i].identifier, SQL.sameName(name, old) else { continue }
            if tokens[i].kind == .quotedName || needsQuoting(new) {
                tokens[i] = SQLToken(.quotedName, "\"" + new.replacingOccurrences(of: "\"", with: "\"\"") + "\"")
            } else {
                tokens[i] = SQLToken(.word, new)
            }
        }
        return join(tokens)
    }

    // MARK: - Identifiers

    package static func unquote(_ text: String) -> String {
        guard let first = text.first, let last = text.last, text.count >= 2 else { return text }
        let inner = String(text.dropFirst().dropLast())
        switch (first, last) {
        case ("\"", "\""): return inner.replacingOccurrences(of: "\"\"", with: "\"")
        case ("`", "`"): return inner.replacingOccurrences(of: "``", with: "`")
        case ("[", "]"): return inner
        case ("'", "'"): return inner.replacingOccurrences(of: "''", with: "'")
        default: return text
        }
    }

    package static func needsQuoting(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first else { return true }
        let startOK = first == "_" || (first >= "a" && first <= "z") || (first >= "A" && first <= "Z")
        let restOK = name.unicodeScalars.allSatisfy {
            $0 == "_" || ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9")
        }
        return !(startOK && restOK) || isKeyword(name)
    }

    /// The identifier, double-quoted only when SQLite needs it.
    package static func quote(_ name: String) -> String {
        needsQuoting(name) ? "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : name
    }

    /// A string literal.
    /// SQL text without trailing whitespace and `;` (a plan adds its own).
    /// `text` without leading and trailing spaces and tabs.
    package static func trimmingSpaces(_ text: String) -> String {
        guard let first = text.firstIndex(where: { $0 != " " && $0 != "\t" }), let last = text.lastIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        return String(text[first...last])
    }

    package static func trimmingTrailingSemicolons(_ text: String) -> String {
        var s = Substring(text)
        while let last = s.last, last == ";" || last.isWhitespace { s.removeLast() }
        return String(s)
    }

    package static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    package static func isKeyword(_ word: String) -> Bool { keywords.contains(word.uppercased()) }

    /// Names and keywords compared as SQLite compares them: ASCII letters
    /// without regard to case, every other byte exactly
    /// (https://sqlite.org/lang_keywords.html). Faster than Foundation's
    /// case-insensitive compare, which the inspector called for every token.
    package static func sameName(_ a: String, _ b: String) -> Bool {
        var x = a.utf8.makeIterator(), y = b.utf8.makeIterator()
        while true {
            switch (x.next(), y.next()) {
            case (nil, nil): return true
            case let (p?, q?):
                if p == q { continue }
                let lp = p >= 65 && p <= 90 ? p + 32 : p, lq = q >= 65 && q <= 90 ? q + 32 : q
                if lp != lq { return false }
            default: return false
            }
        }
    }

    /// SQLite's keywords (https://sqlite.org/lang_keywords.html).
    static let keywords: Set<String> = [
        "ABORT", "ACTION", "ADD", "AFTER", "ALL", "ALTER", "ALWAYS", "ANALYZE", "AND", "AS", "ASC", "ATTACH",
        "AUTOINCREMENT", "BEFORE", "BEGIN", "BETWEEN", "BY", "CASCADE", "CASE", "CAST", "CHECK", "COLLATE",
        "COLUMN", "COMMIT", "CONFLICT", "CONSTRAINT", "CREATE", "CROSS", "CURRENT", "CURRENT_DATE",
        "CURRENT_TIME", "CURRENT_TIMESTAMP", "DATABASE", "DEFAULT", "DEFERRABLE", "DEFERRED", "DELETE", "DESC",
        "DETACH", "DISTINCT", "DO", "DROP", "EACH", "ELSE", "END", "ESCAPE", "EXCEPT", "EXCLUDE", "EXCLUSIVE",
        "EXISTS", "EXPLAIN", "FAIL", "FILTER", "FIRST", "FOLLOWING", "FOR", "FOREIGN", "FROM", "FULL",
        "GENERATED", "GLOB", "GROUP", "GROUPS", "HAVING", "IF", "IGNORE", "IMMEDIATE", "IN", "INDEX", "INDEXED",
        "INITIALLY", "INNER", "INSERT", "INSTEAD", "INTERSECT", "INTO", "IS", "ISNULL", "JOIN", "KEY", "LAST",
        "LEFT", "LIKE", "LIMIT", "MATCH", "MATERIALIZED", "NATURAL", "NO", "NOT", "NOTHING", "NOTNULL", "NULL",
        "NULLS", "OF", "OFFSET", "ON", "OR", "ORDER", "OTHERS", "OUTER", "OVER", "PARTITION", "PLAN", "PRAGMA",
        "PRECEDING", "PRIMARY", "QUERY", "RAISE", "RANGE", "RECURSIVE", "REFERENCES", "REGEXP", "REINDEX",
        "RELEASE", "RENAME", "REPLACE", "RESTRICT", "RETURNING", "RIGHT", "ROLLBACK", "ROW", "ROWS", "SAVEPOINT",
        "SELECT", "SET", "TABLE", "TEMP", "TEMPORARY", "THEN", "TIES", "TO", "TRANSACTION", "TRIGGER",
        "UNBOUNDED", "UNION", "UNIQUE", "UPDATE", "USING", "VACUUM", "VALUES", "VIEW", "VIRTUAL", "WHEN", "WHERE",
        "WINDOW", "WITH", "WITHOUT",
    ]
}

