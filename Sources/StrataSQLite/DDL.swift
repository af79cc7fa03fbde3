import StrataCore

/// Renders schema objects as SQLite DDL. What it writes, read back by the
/// `Inspector`, gives the same model (a law the tests check).
package enum DDL {
    package static func q(_ name: String) -> String { SQL.quote(name) }

    static func columnList(_ names: [String]) -> String { names.map(q).joined(separator: ", ") }

    package static func columnDefinition(_ c: Column, inlinePrimaryKey: Bool = false, autoincrement: Bool = false) -> String {
        var parts = [q(c.name)]
        if !c.type.isEmpty { parts.append(c.type) }
        if inlinePrimaryKey { parts.append(autoincrement ? "PRIMARY KEY AUTOINCREMENT" : "PRIMARY KEY") }
        if c.notNull { parts.append("NOT NULL") }
        if let d = c.defaultValue { parts.append("DEFAULT \(defaultClause(d))") }
        if let collation = c.collation { parts.append("COLLATE \(collation)") }
        if let g = c.generated { parts.append("GENERATED ALWAYS AS (\(g.expression)) \(g.stored ? "STORED" : "VIRTUAL")") }
        return parts.joined(separator: " ")
    }

    /// SQLite keeps a default's text without the parentheses an expression
    /// needs (`DEFAULT (lower('A'))` reads back as `lower('A')`): put them back,
    /// and only there. A lone name (`DEFAULT "text"`, as drizzle writes
    /// strings, or `DEFAULT abc`) is a string to SQLite's grammar where it
    /// stands, but a column reference in parentheses, which SQLite refuses.
    static func defaultClause(_ d: String) -> String {
        guard let tokens = try? SQL.tokenize(d) else { return d }
        let isLiteral: Bool
        switch tokens.count {
        case 1:
            let t = tokens[0]
            isLiteral = t.kind == .string || t.kind == .number || t.kind == .blob || t.kind == .quotedName || t.kind == .word
        case 2: isLiteral = (tokens[0].text == "-" || tokens[0].text == "+") && tokens[1].kind == .number
        default: isLiteral = false
        }
        if isLiteral || (d.hasPrefix("(") && SQL.matchingParen(tokens, from: 0) == tokens.count - 1) { return d }
        return "(\(d))"
    }

    package static func createTable(_ t: Table, as name: String? = nil) -> String {
        let k = t.constraints
        let inlinePK = k.primaryKey.count == 1 ? SQL.nameKey(k.primaryKey[0]) : nil
        var lines = t.columns.map { c in
            columnDefinition(c, inlinePrimaryKey: SQL.nameKey(c.name) == inlinePK, autoincrement: k.autoincrement)
        }
        if k.primaryKey.count > 1 { lines.append("PRIMARY KEY (\(columnList(k.primaryKey)))") }
        for u in k.uniques { lines.append("UNIQUE (\(columnList(u)))") }
        for fk in k.foreignKeys {
            var line = "FOREIGN KEY (\(columnList(fk.columns))) REFERENCES \(q(fk.referencedTable))"
            if !fk.referencedColumns.isEmpty { line += " (\(columnList(fk.referencedColumns)))" }
            if fk.onUpdate != "NO ACTION" { line += " ON UPDATE \(fk.onUpdate)" }
            if fk.onDelete != "NO ACTION" { line += " ON DELETE \(fk.onDelete)" }
            if fk.deferred { line += " DEFERRABLE INITIALLY DEFERRED" }
            lines.append(line)
        }
        for check in k.checks { lines.append((check.name.map { "CONSTRAINT \(q($0)) " } ?? "") + "CHECK (\(check.expression))") }
        var options: [String] = []
        if k.withoutRowid { options.append("WITHOUT ROWID") }
        if k.strict { options.append("STRICT") }
        return "CREATE TABLE \(q(name ?? t.name)) (\n    " + lines.joined(separator: ",\n    ") + "\n)"
            + (options.isEmpty ? "" : " " + options.joined(separator: ", "))
    }

    package static func createIndex(_ i: Index) -> String {
        var s = "CREATE \(i.unique ? "UNIQUE " : "")INDEX \(q(i.name)) ON \(q(i.table)) (\(i.terms.joined(separator: ", ")))"
        if let p = i.predicate { s += " WHERE \(p)" }
        return s
    }

    /// The whole schema as a script: tables (referenced ones first), indexes, views, triggers.
    package static func script(_ schema: Schema) -> [String] {
        var statements: [String] = []
        for t in schema.tablesInDependencyOrder { statements.append(createTable(t)) }
        for v in schema.virtualTablesByName { statements.append(v.sql) }
        for i in schema.indexesByName {
            statements.append(createIndex(i))
        }
        for v in schema.viewsInDependencyOrder { statements.append(v.sql) }
        for t in schema.triggersByName {
            statements.append(t.sql)
        }
        return statements
    }
}
