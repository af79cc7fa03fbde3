import Foundation
import StrataCore

/// An object in the database that strata cannot model yet.
package struct InspectionError: Error, CustomStringConvertible, Sendable {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// Reads a live database into a `Schema` (Atlas's "inspect").
///
/// Structure comes from PRAGMAs, which reflect what SQLite understood: column
/// types, NOT NULL, defaults, primary key, UNIQUE constraints, foreign keys
/// with their actions. What no PRAGMA exposes (CHECK, COLLATE, AUTOINCREMENT,
/// WITHOUT ROWID, STRICT, an index's terms and WHERE) is read from the stored
/// `CREATE` statement's tokens.
package struct Inspector {
    let db: Connection

    package init(_ db: Connection) { self.db = db }

    // MARK: Queries (named, as in Atlas's sqlite inspector)

    static let objectsQuery = """
        SELECT type, name, tbl_name, sql FROM sqlite_master
        WHERE substr(name, 1, 7) NOT IN ('sqlite_', 'strata_') AND substr(tbl_name, 1, 7) NOT IN ('sqlite_', 'strata_')
        ORDER BY name
        """

    /// The tables a virtual table's module keeps its data in (fts5's
    /// `t_data`, `t_idx`, ...): the module creates and drops them.
    static let shadowTablesQuery = "SELECT name FROM pragma_table_list WHERE type = 'shadow'"

    /// Every ordinary table's columns, UNIQUE constraints and foreign keys
    /// in three queries (asking per table cost three prepared PRAGMAs per
    /// table: most of the time of a 500-table models file).
    static let columnsQuery = """
        SELECT m.name, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden
        FROM sqlite_master AS m, pragma_table_xinfo(m.name) AS p
        WHERE m.type = 'table' AND m.sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY m.name, p.cid
        """
    static let uniquesQuery = """
        SELECT m.name, l.name, i.name
        FROM sqlite_master AS m, pragma_index_list(m.name) AS l, pragma_index_info(l.name) AS i
        WHERE m.type = 'table' AND m.sql NOT LIKE 'CREATE VIRTUAL%' AND l.origin = 'u' ORDER BY m.name, l.seq DESC, i.seqno
        """
    static let foreignKeysQuery = """
        SELECT m.name, f.id, f."table", f."from", f."to", f.on_update, f.on_delete
        FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f
        WHERE m.type = 'table' AND m.sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY m.name, f.id, f.seq
        """

    /// Rows of `query` grouped by their first column (a table name, lowercased).
    func grouped(_ query: String) throws -> [String: [[Value]]] {
        var out: [String: [[Value]]] = [:]
        try db.forEachRow(query) { row in out[SQL.nameKey(row[0].string ?? ""), default: []].append(Array(row.dropFirst())) }
        return out
    }

    package func schema() throws -> Schema {
        var schema = Schema()
        let shadow = Set(try db.query(Inspector.shadowTablesQuery).compactMap { $0[0].string.map(SQL.nameKey) })
        let columns = try grouped(Inspector.columnsQuery)
        let uniques = try grouped(Inspector.uniquesQuery)
        let foreignKeys = try grouped(Inspector.foreignKeysQuery)
        for row in try db.query(Inspector.objectsQuery) {
            guard let type = row[0].string, let name = row[1].string, let tableName = row[2].string else { continue }
            let sql = row[3].string
            switch type {
            case "table":
                guard let sql, !shadow.contains(SQL.nameKey(name)) else { continue }
                let tokens = try SQL.tokenize(sql)
                if tokens.count > 1, tokens[1].isKeyword("VIRTUAL") {
                    let columns = try db.query("SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0", [.text(name)]).compactMap { $0[0].string }
                    schema.virtualTables[SQLName(name)] = VirtualTable(name: name, sql: SQL.normalize(sql), columns: columns)
                    continue
                }
                let key = SQL.nameKey(name)
                let t = try table(name, tokens: tokens, columns: columns[key] ?? [], uniques: uniques[key] ?? [], foreignKeys: foreignKeys[key] ?? [])
                schema.tables[SQLName(name)] = t
            case "index":
                guard let sql else { continue } // constraint autoindexes are read with their table
                schema.indexes[SQLName(name)] = try index(name, table: tableName, sql: sql)
            case "view":
                schema.views[SQLName(name)] = View(name: name, sql: SQL.normalize(sql ?? ""))
            case "trigger":
                schema.triggers[SQLName(name)] = Trigger(name: name, table: tableName, sql: SQL.normalize(sql ?? ""))
            default:
                continue
            }
        }
        return schema
    }

    func table(_ name: String, tokens: [SQLToken], columns columnRows: [[Value]], uniques uniqueRows: [[Value]], foreignKeys fkRows: [[Value]]) throws -> Table {
        let parsed = try CreateTableText(tokens: tokens, table: name)

        var columns: [Column] = []
        var pk: [(Int64, String)] = []
        for row in columnRows {
            let colName = row[0].string ?? ""
            // hidden: 0 an ordinary column, 1 a virtual table's hidden one,
            // 2 a VIRTUAL and 3 a STORED generated column.
            var generated: Generated?
            switch row[5].int ?? 0 {
            case 0: break
            case 2, 3:
                guard let expression = parsed.generated[SQL.nameKey(colName)] else {
                    throw InspectionError("cannot read the expression of generated column \(name).\(colName)")
                }
                generated = Generated(expression, stored: row[5].int == 3)
            default:
                throw InspectionError("column \(name).\(colName) is a hidden column; strata does not support those yet")
            }
            // The type as declared (SQLite keeps its text); Column compares it ignoring whitespace.
            var column = Column(name: colName, type: SQL.trimmingSpaces(row[1].string ?? ""), notNull: row[2].int == 1,
                                defaultValue: row[3].string.map(SQL.normalize),
                                collation: parsed.collations[SQL.nameKey(colName)], generated: generated)
            if column.defaultValue?.uppercased() == "NULL" { column.defaultValue = "NULL" }
            columns.append(column)
            if let position = row[4].int, position > 0 { pk.append((position, colName)) }
        }

        // Each UNIQUE constraint's columns, in pragma_index_list's order.
        var uniques: [[String]] = []
        var current: String?
        for row in uniqueRows {
            if row[0].string != current {
                uniques.append([])
                current = row[0].string
            }
            if let column = row[1].string { uniques[uniques.count - 1].append(column) }
        }

        var fks: [Int64: ForeignKey] = [:]
        for row in fkRows {
            let id = row[0].int ?? 0
            var fk = fks[id] ?? ForeignKey(columns: [], referencedTable: row[1].string ?? "", referencedColumns: [],
                                           onUpdate: row[4].string ?? "NO ACTION", onDelete: row[5].string ?? "NO ACTION")
            fk.columns.append(row[2].string ?? "")
            if let to = row[3].string { fk.referencedColumns.append(to) }
            fks[id] = fk
        }

        for (id, fk) in fks {
            fks[id]?.deferred = parsed.deferredForeignKeys.contains(CreateTableText.foreignKeyKey(fk.columns, fk.referencedTable))
        }

        let constraints = TableConstraints(
            primaryKey: pk.sorted { $0.0 < $1.0 }.map(\.1), autoincrement: parsed.autoincrement, uniques: uniques,
            foreignKeys: Array(fks.values), checks: parsed.checks, withoutRowid: parsed.withoutRowid, strict: parsed.strict)
        return Table(name: name, columns: columns, constraints: constraints)
    }

    func index(_ name: String, table: String, sql: String) throws -> Index {
        let tokens = try SQL.tokenize(sql)
        let unique = tokens.count > 1 && tokens[1].isKeyword("UNIQUE")
        guard let open = tokens.firstIndex(where: { $0.text == "(" }), let close = SQL.matchingParen(tokens, from: open) else {
            throw InspectionError("cannot read the definition of index \(name)")
        }
        let terms = SQL.splitTopLevel(tokens[(open + 1)..<close]).map { SQL.join($0) }
        var predicate: String?
        if close + 1 < tokens.count, tokens[close + 1].isKeyword("WHERE") {
            predicate = SQL.join(tokens[(close + 2)...])
        }
        return Index(name: name, table: table, unique: unique, terms: terms, predicate: predicate)
    }
}

/// What is read from a `CREATE TABLE` statement's tokens.
struct CreateTableText {
    var checks: [Check] = []
    var collations: [String: String] = [:]
    /// Generated columns' expressions, by lowercased column name.
    var generated: [String: String] = [:]
    var autoincrement = false
    var withoutRowid = false
    var strict = false
    /// Foreign keys declared `DEFERRABLE INITIALLY DEFERRED` (which PRAGMA
    /// foreign_key_list does not report), by `foreignKeyKey`.
    var deferredForeignKeys: Set<String> = []

    static func foreignKeyKey(_ columns: [String], _ parent: String) -> String {
        (columns + [parent]).map { SQL.nameKey($0) }.joined(separator: "\u{1}")
    }

    init(tokens: [SQLToken], table: String) throws {
        guard let open = tokens.firstIndex(where: { $0.text == "(" }), let close = SQL.matchingParen(tokens, from: open) else {
            throw InspectionError("cannot read the definition of table \(table) (CREATE TABLE ... AS SELECT is not supported)")
        }
        for slice in SQL.splitTopLevel(tokens[(open + 1)..<close]) {
            let part = Array(slice)
            guard let first = part.first else { continue }
            let isTableConstraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"].contains { first.isKeyword($0) }
            let columnName = isTableConstraint ? nil : first.identifier.map(SQL.nameKey)
            readDeferredForeignKeys(part, column: columnName)
            var i = isTableConstraint ? 0 : 1
            while i < part.count {
                let t = part[i]
                // A parenthesised group: CHECK's and a generated column's
                // expressions are read, any other (types, defaults,
                // references) skipped.
                if t.text == "(" && t.kind == .punct {
                    let end = SQL.matchingParen(part, from: i) ?? part.count - 1
                    let inside = SQL.join(part[(i + 1)..<max(i + 1, end)])
                    if i >= 1, part[i - 1].isKeyword("CHECK") {
                        // `CONSTRAINT name CHECK (...)`: the name comes just before.
                        let named = i >= 3 && part[i - 3].isKeyword("CONSTRAINT")
                        checks.append(Check(inside, name: named ? part[i - 2].identifier : nil))
                    } else if let columnName, i >= 1, part[i - 1].isKeyword("AS") {
                        // `[GENERATED ALWAYS] AS (expression) [VIRTUAL | STORED]`
                        generated[columnName] = inside
                    }
                    i = end + 1
                    continue
                }
                if let columnName, t.isKeyword("COLLATE"), i + 1 < part.count, let c = part[i + 1].identifier {
                    let upper = c.uppercased()
                    if upper != "BINARY" { collations[columnName] = upper }
                    i += 2
                    continue
                }
                if t.isKeyword("AUTOINCREMENT") { autoincrement = true }
                i += 1
            }
        }
        for option in SQL.splitTopLevel(tokens[(close + 1)...]) {
            let words = option.map { $0.text.uppercased() }
            if words == ["WITHOUT", "ROWID"] { withoutRowid = true }
            if words == ["STRICT"] { strict = true }
        }
    }

    /// Each `REFERENCES parent ...` clause of one column definition or table
    /// constraint, with the local columns it belongs to, marked when it is
    /// followed by `DEFERRABLE INITIALLY DEFERRED` (not `NOT DEFERRABLE`).
    private mutating func readDeferredForeignKeys(_ part: [SQLToken], column: String?) {
        var local: [String] = column.map { [$0] } ?? []
        if column == nil, let f = part.firstIndex(where: { $0.isKeyword("FOREIGN") }), f + 2 < part.count,
           part[f + 1].isKeyword("KEY"), part[f + 2].text == "(", let end = SQL.matchingParen(part, from: f + 2) {
            local = SQL.splitTopLevel(part[(f + 3)..<end]).compactMap { $0.first?.identifier }
        }
        let references = part.indices.filter { part[$0].isKeyword("REFERENCES") }
        for (n, r) in references.enumerated() where r + 1 < part.count {
            guard let parent = part[r + 1].identifier else { continue }
            let stop = n + 1 < references.count ? references[n + 1] : part.count
            for j in (r + 2)..<max(r + 2, stop - 2) where part[j].isKeyword("DEFERRABLE") && !part[j - 1].isKeyword("NOT")
                && part[j + 1].isKeyword("INITIALLY") && part[j + 2].isKeyword("DEFERRED") {
                deferredForeignKeys.insert(CreateTableText.foreignKeyKey(local, parent))
            }
        }
    }
}

extension InspectionError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "database.unsupported" }
}
