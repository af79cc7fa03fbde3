/// Names and SQL fragments compared as SQLite reads them.
///
/// SQLite folds the ASCII case of keywords and names, and a name may be
/// written bare or in any of its quoting styles (`"x"`, `` `x` ``, `[x]`).
/// Stored text keeps what the models file wrote; every comparison goes
/// through these keys, so that `in` and `IN`, or `` `userId` `` and
/// `userId`, are the same.
/// A name as SQLite compares names: ASCII letters without regard to case,
/// every other byte exactly (so `Users` and `users` are one table, `Ä` and
/// `ä` two, as SQLite has them). It keys the schema's tables, indexes,
/// views and triggers; `text` keeps the name as written.
package struct SQLName: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    package let text: String
    package let key: String

    package init(_ text: String) {
        self.text = text
        key = SQL.nameKey(text)
    }

    package init(stringLiteral text: String) { self.init(text) }

    package static func == (a: SQLName, b: SQLName) -> Bool { a.key == b.key }
    package func hash(into hasher: inout Hasher) { hasher.combine(key) }
    package var description: String { text }
}

extension SQL {
    /// A name's key: its ASCII letters folded, every other byte kept
    /// (https://sqlite.org/lang_keywords.html).
    package static func nameKey(_ name: String) -> String {
        guard name.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) else { return name }
        return String(decoding: name.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// A fragment's key: its tokens, keywords and names folded and names
    /// unquoted; strings, numbers and blobs exactly as written. Text that
    /// does not tokenize is its own key.
    package static func key(_ fragment: String) -> String {
        guard let tokens = try? tokenize(fragment) else { return fragment }
        return tokens.map { t -> String in
            switch t.kind {
            case .word: return nameKey(t.text)
            case .quotedName: return nameKey(unquote(t.text))
            default: return t.text
            }
        }.joined(separator: "\u{1}")
    }

    /// A whole statement's key (a view's or trigger's): as `key`, except that
    /// a name after `AS` is kept as written, since it names a result column
    /// and readers of a view see it so.
    package static func statementKey(_ statement: String) -> String {
        guard let tokens = try? tokenize(statement) else { return statement }
        return tokens.indices.map { i -> String in
            let t = tokens[i]
            if i > 0, tokens[i - 1].isKeyword("AS"), let name = t.identifier, !(t.kind == .word && isKeyword(t.text)) { return name }
            switch t.kind {
            case .word: return nameKey(t.text)
            case .quotedName: return nameKey(unquote(t.text))
            default: return t.text
            }
        }.joined(separator: "\u{1}")
    }

    /// Whether two fragments read the same (cheap when they are written the same).
    package static func sameFragment(_ a: String?, _ b: String?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a == b || key(a) == key(b)
    }

    /// The column an index term names (`x`, `"x"`, `x DESC`), folded; nil
    /// for an expression or a term with its own collation.
    package static func termColumnKey(_ term: String) -> String? {
        guard var tokens = try? tokenize(term) else { return nil }
        if tokens.count == 2, tokens[1].isKeyword("ASC") || tokens[1].isKeyword("DESC") { tokens.removeLast() }
        guard tokens.count == 1, let name = tokens[0].identifier else { return nil }
        return nameKey(name)
    }
}

// MARK: - Equality by key

extension Index {
    package static func == (a: Index, b: Index) -> Bool {
        a.name == b.name && SQL.sameName(a.table, b.table) && a.unique == b.unique && a.terms.count == b.terms.count
            && zip(a.terms, b.terms).allSatisfy { SQL.sameFragment($0, $1) } && SQL.sameFragment(a.predicate, b.predicate)
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(SQL.nameKey(table))
        hasher.combine(unique)
        hasher.combine(terms.map(SQL.key))
        hasher.combine(predicate.map(SQL.key))
    }
}

// SQLite rewrites a view's or trigger's text when a table it names is
// renamed, even when only the name's case changes; that is no change.
extension View {
    package static func == (a: View, b: View) -> Bool {
        a.name == b.name && (a.sql == b.sql || SQL.statementKey(a.sql) == SQL.statementKey(b.sql))
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(SQL.statementKey(sql))
    }
}

extension Trigger {
    package static func == (a: Trigger, b: Trigger) -> Bool {
        a.name == b.name && SQL.sameName(a.table, b.table) && (a.sql == b.sql || SQL.statementKey(a.sql) == SQL.statementKey(b.sql))
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(SQL.nameKey(table))
        hasher.combine(SQL.statementKey(sql))
    }
}

extension Check {
    package static func == (a: Check, b: Check) -> Bool { a.name == b.name && SQL.sameFragment(a.expression, b.expression) }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(SQL.key(expression))
    }
}

extension Generated {
    package static func == (a: Generated, b: Generated) -> Bool { a.stored == b.stored && SQL.sameFragment(a.expression, b.expression) }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(stored)
        hasher.combine(SQL.key(expression))
    }
}

extension ForeignKey {
    package static func == (a: ForeignKey, b: ForeignKey) -> Bool {
        a.columns.map(SQL.nameKey) == b.columns.map(SQL.nameKey) && SQL.sameName(a.referencedTable, b.referencedTable)
            && a.referencedColumns.map(SQL.nameKey) == b.referencedColumns.map(SQL.nameKey)
            && a.onUpdate == b.onUpdate && a.onDelete == b.onDelete && a.deferred == b.deferred
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(columns.map(SQL.nameKey))
        hasher.combine(SQL.nameKey(referencedTable))
        hasher.combine(referencedColumns.map(SQL.nameKey))
        hasher.combine(onUpdate)
        hasher.combine(onDelete)
        hasher.combine(deferred)
    }
}
