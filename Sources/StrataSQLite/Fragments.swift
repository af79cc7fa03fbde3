import Foundation
import CSQLite
import StrataCore

/// An op whose SQL text is not what its place allows: an expression that is
/// more than one expression, a type that is not a type name, a view that is
/// not one CREATE VIEW, a data step that is not INSERT/UPDATE/DELETE/SELECT.
package struct UnsafeFragment: Error, CustomStringConvertible, Sendable {
    package var event: String?
    package let op: Int
    package let summary: String
    /// Where the text sits: `index WHERE`, `type of column users.name`, ...
    package let place: String
    package let fragment: String
    package let reason: String
    /// A data step holding a schema change: a caller may say where those
    /// go (the CLI names its flags).
    package var isSchemaChangeInDataStep: Bool { place == "data step" && reason.hasPrefix("holds `") }

    package var description: String { description(remedy: nil) }

    /// The message, with `remedy` after the reason when given.
    package func description(remedy: String?) -> String {
        let owner = event.map { "event \($0.prefix(12)), " } ?? ""
        return "\(owner)op \(op + 1) (\(summary)): the \(place) `\(fragment.prefix(200))` \(reason)\(remedy.map { " (\($0))" } ?? ""); "
            + "strata runs only SQL that is what its place in an op says, so nothing was changed"
    }
}

extension UnsafeFragment: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "event.unsafe" }
}

/// Checks every SQL fragment an op carries with SQLite's own parser, on a
/// scratch database of its own (nothing of the caller's is touched):
/// where an op enters (revision, import, pull, push) and before it runs.
package final class FragmentChecker {
    let scratch: Connection

    package init() throws {
        scratch = try Connection.memory()
        try scratch.execute("CREATE TABLE strata_probe (x)")
    }

    /// Checks every op of `event`, naming the event in the error.
    package func check(_ event: Event) throws {
        do { try check(event.ops) } catch var e as UnsafeFragment {
            e.event = event.id
            throw e
        }
    }

    package func check(_ ops: [Op]) throws {
        for (n, op) in ops.enumerated() {
            if let (place, fragment, reason) = problem(in: op) {
                throw UnsafeFragment(event: nil, op: n, summary: op.summary, place: place, fragment: fragment, reason: reason)
            }
        }
    }

    typealias Problem = (place: String, fragment: String, reason: String)

    func problem(in op: Op) -> Problem? {
        switch op {
        case let .createTable(t, indexes, triggers), let .dropTable(t, indexes, triggers):
            return problem(in: t) ?? indexes.lazy.compactMap(problem(in:)).first ?? triggers.lazy.compactMap(problem(in:)).first
        case let .addColumn(table, column, _), let .dropColumn(table, column, _):
            return problem(in: column, of: table)
        case let .alterColumn(table, from, to):
            return problem(in: from, of: table) ?? problem(in: to, of: table)
        case let .alterConstraints(table, from, to):
            return problem(in: from, of: table) ?? problem(in: to, of: table)
        case let .createIndex(i), let .dropIndex(i):
            return problem(in: i)
        case let .createView(v), let .dropView(v):
            return problem(inView: v)
        case let .createTrigger(t), let .dropTrigger(t):
            return problem(in: t)
        case let .createVirtualTable(v), let .dropVirtualTable(v):
            return problem(inVirtual: v)
        case let .alterVirtualTable(from, to):
            return problem(inVirtual: from) ?? problem(inVirtual: to)
        case let .exec(forward, reverse):
            return [forward, reverse].lazy.compactMap { $0 }.compactMap { sql in
                Self.dataStatementProblem(sql).map { ("data step", sql, $0) }
            }.first
        case .renameTable, .renameColumn, .reorderColumns:
            return nil  // names only, which the planner always quotes
        }
    }

    func problem(in t: Table) -> Problem? {
        for c in t.columns { if let p = problem(in: c, of: t.name) { return p } }
        return problem(in: t.constraints, of: t.name)
    }

    func problem(in c: Column, of table: String) -> Problem? {
        if let why = Self.typeProblem(c.type) { return ("type of column \(table).\(c.name)", c.type, why) }
        if let d = c.defaultValue, let why = expressionProblem(d) { return ("default of column \(table).\(c.name)", d, why) }
        if let collation = c.collation, let why = Self.nameProblem(collation) { return ("collation of column \(table).\(c.name)", collation, why) }
        if let g = c.generated, let why = expressionProblem(g.expression) { return ("generated expression of column \(table).\(c.name)", g.expression, why) }
        return nil
    }

    func problem(in k: TableConstraints, of table: String) -> Problem? {
        for check in k.checks {
            if let why = expressionProblem(check.expression) { return ("CHECK of table \(table)", check.expression, why) }
        }
        let actions: Set<String> = ["NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"]
        for fk in k.foreignKeys {
            for action in [fk.onUpdate, fk.onDelete] where !actions.contains(action.uppercased()) {
                return ("foreign key action of table \(table)", action, "is not one of NO ACTION, RESTRICT, CASCADE, SET NULL, SET DEFAULT")
            }
        }
        return nil
    }

    func problem(in i: Index) -> Problem? {
        for term in i.terms {
            var text = term
            if let tokens = try? SQL.tokenize(term), tokens.count > 1, let last = tokens.last, last.isKeyword("ASC") || last.isKeyword("DESC") {
                text = SQL.join(tokens.dropLast())
            }
            if let why = expressionProblem(text) { return ("term of index \(i.name)", term, why) }
        }
        if let p = i.predicate, let why = expressionProblem(p) { return ("WHERE of index \(i.name)", p, why) }
        return nil
    }

    // MARK: - Expressions, types, names

    /// One expression and nothing else: SQLite parses it inside parentheses
    /// that the text itself never closes (a trigger body does not resolve
    /// names, so no table is needed).
    func expressionProblem(_ expression: String) -> String? {
        guard let tokens = try? SQL.tokenize(expression), !tokens.isEmpty else { return "is not an expression" }
        var depth = 0
        for t in tokens where t.kind == .punct {
            if t.text == ";" { return "holds more than one statement" }
            if t.text == "(" { depth += 1 }
            if t.text == ")" { depth -= 1 }
            if depth < 0 { return "closes a parenthesis it did not open" }
        }
        guard depth == 0 else { return "leaves a parenthesis open" }
        let probe = "CREATE TEMP TRIGGER strata_probe_expression BEFORE INSERT ON strata_probe BEGIN SELECT (\(expression)); END"
        do {
            let (_, rest) = try scratch.actions(preparing: probe)
            return rest.isEmpty ? nil : "is more than one expression"
        } catch let e as SQLiteError {
            return "is not one expression (SQLite: \(e.message))"
        } catch {
            return "is not one expression"
        }
    }

    /// SQLite's grammar of a column's type: names, then optionally one or
    /// two signed numbers in parentheses (https://sqlite.org/syntax/type-name.html).
    static func typeProblem(_ type: String) -> String? {
        guard !type.isEmpty else { return nil }
        guard let tokens = try? SQL.tokenize(type), !tokens.isEmpty else { return "is not a type name" }
        let constraintWords: Set<String> = ["CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE",
                                            "REFERENCES", "GENERATED", "AS"]
        var i = 0
        while i < tokens.count, tokens[i].kind == .quotedName || tokens[i].kind == .string
                || (tokens[i].kind == .word && !constraintWords.contains(tokens[i].text.uppercased())) { i += 1 }
        guard i > 0 else { return "is not a type name" }
        if i == tokens.count { return nil }
        func signed(_ j: inout Int) -> Bool {
            if j < tokens.count, tokens[j].text == "+" || tokens[j].text == "-" { j += 1 }
            guard j < tokens.count, tokens[j].kind == .number else { return false }
            j += 1
            return true
        }
        guard tokens[i].text == "(" else { return "is not a type name (a type is names and at most two numbers in parentheses)" }
        i += 1
        guard signed(&i) else { return "is not a type name" }
        if i < tokens.count, tokens[i].text == "," {
            i += 1
            guard signed(&i) else { return "is not a type name" }
        }
        guard i == tokens.count - 1, tokens[i].text == ")" else { return "is not a type name (a type is names and at most two numbers in parentheses)" }
        return nil
    }

    static func nameProblem(_ name: String) -> String? {
        guard let tokens = try? SQL.tokenize(name), tokens.count == 1, tokens[0].identifier != nil else { return "is not one name" }
        return nil
    }

    // MARK: - Whole statements

    /// One `CREATE VIEW` of the view's own name.
    func problem(inView v: View) -> Problem? {
        statementProblem(v.sql, creating: SQLITE_CREATE_VIEW, name: v.name, table: nil, what: "CREATE VIEW").map { ("SQL of view \(v.name)", v.sql, $0) }
    }

    /// One `CREATE TRIGGER` of the trigger's own name on its own table.
    func problem(in t: Trigger) -> Problem? {
        // The table (or, for INSTEAD OF, the view) it is on, on a scratch database of its own.
        guard let probe = try? Connection.memory() else { return ("SQL of trigger \(t.name)", t.sql, "cannot be checked") }
        let isInsteadOf = ((try? SQL.tokenize(t.sql)) ?? []).contains { $0.isKeyword("INSTEAD") }
        let stub = isInsteadOf ? "CREATE VIEW \(DDL.q(t.table)) AS SELECT 1 AS x" : "CREATE TABLE \(DDL.q(t.table)) (x)"
        guard (try? probe.execute(stub)) != nil else { return ("table of trigger \(t.name)", t.table, "is not a name a table can have") }
        return Self.statementProblem(t.sql, on: probe, creating: SQLITE_CREATE_TRIGGER, name: t.name, table: t.table, what: "CREATE TRIGGER")
            .map { ("SQL of trigger \(t.name)", t.sql, $0) }
    }

    func problem(inVirtual v: VirtualTable) -> Problem? {
        statementProblem(v.sql, creating: SQLITE_CREATE_VTABLE, name: v.name, table: nil, what: "CREATE VIRTUAL TABLE").map { ("SQL of virtual table \(v.name)", v.sql, $0) }
    }

    func statementProblem(_ sql: String, creating action: Int32, name: String, table: String?, what: String) -> String? {
        Self.statementProblem(sql, on: scratch, creating: action, name: name, table: table, what: what)
    }

    /// SQLite prepares `sql` (it runs nothing) and reports what it would do:
    /// exactly one statement, which creates exactly the object named.
    static func statementProblem(_ sql: String, on db: Connection, creating action: Int32, name: String, table: String?, what: String) -> String? {
        let actions: [(action: Int32, a: String?, b: String?)]
        do {
            let (found, rest) = try db.actions(preparing: sql)
            guard rest.isEmpty else { return "holds more than one statement" }
            actions = found
        } catch let e as SQLiteError {
            return "is not one \(what) statement (SQLite: \(e.message))"
        } catch {
            return "is not one \(what) statement"
        }
        let creates = actions.filter { $0.action == action }
        guard creates.count == 1, SQL.sameName(creates[0].a ?? "", name),
              table.map({ SQL.sameName(creates[0].b ?? "", $0) }) ?? true else {
            return "is not one \(what) of \(name)\(table.map { " on \($0)" } ?? "")"
        }
        let schemaActions: Set<Int32> = [SQLITE_CREATE_INDEX, SQLITE_CREATE_TABLE, SQLITE_CREATE_TEMP_INDEX, SQLITE_CREATE_TEMP_TABLE,
                                         SQLITE_CREATE_TEMP_TRIGGER, SQLITE_CREATE_TEMP_VIEW, SQLITE_CREATE_TRIGGER, SQLITE_CREATE_VIEW,
                                         SQLITE_DROP_INDEX, SQLITE_DROP_TABLE, SQLITE_DROP_TRIGGER, SQLITE_DROP_VIEW, SQLITE_ALTER_TABLE,
                                         SQLITE_CREATE_VTABLE, SQLITE_DROP_VTABLE, SQLITE_ATTACH, SQLITE_DETACH, SQLITE_PRAGMA,
                                         SQLITE_TRANSACTION, SQLITE_SAVEPOINT]
        if actions.contains(where: { schemaActions.contains($0.action) && $0.action != action }) {
            return "does more than \(what) \(name)"
        }
        return nil
    }

    // MARK: - Data steps

    /// The statements a data step may hold: rows changed or read, nothing else.
    static let dataStatementWords: Set<String> = ["INSERT", "UPDATE", "DELETE", "SELECT", "REPLACE", "WITH", "VALUES"]

    /// Why `sql` is not a data step, nil when each statement in it is one.
    package static func dataStatementProblem(_ sql: String) -> String? {
        let statements = splitStatements(sql)
        guard !statements.isEmpty else { return "holds no statement" }
        for s in statements {
            guard let first = (try? SQL.tokenize(s, limit: 1))?.first else { return "cannot be read as SQL" }
            guard first.kind == .word, dataStatementWords.contains(first.text.uppercased()) else {
                return "holds `\(s.prefix(60))`, and a data step holds only INSERT, UPDATE, DELETE, REPLACE and SELECT statements"
            }
        }
        return nil
    }

    /// `sql` split at each `;` outside strings, quoted names and comments;
    /// each statement's text as written, without its `;`, empty ones left
    /// out. (A trigger body would be split too: a data step holds none.)
    package static func splitStatements(_ sql: String) -> [String] {
        let bytes = Array(sql.utf8)
        var statements: [String] = []
        var start = 0
        var i = 0
        func cut(_ end: Int) {
            let text = SQL.trimmingSpaces(String(decoding: bytes[start..<end], as: UTF8.self))
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if (try? SQL.tokenize(text, limit: 1))?.isEmpty == false { statements.append(text) }
        }
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"):
                i += 1
                while i < bytes.count {
                    if bytes[i] == c {
                        if i + 1 < bytes.count, bytes[i + 1] == c { i += 2; continue }
                        break
                    }
                    i += 1
                }
                i += 1
            case UInt8(ascii: "["):
                while i < bytes.count, bytes[i] != UInt8(ascii: "]") { i += 1 }
                i += 1
            case UInt8(ascii: "-") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "-"):
                while i < bytes.count, bytes[i] != 10 { i += 1 }
            case UInt8(ascii: "/") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "*"):
                i += 2
                while i + 1 < bytes.count, !(bytes[i] == UInt8(ascii: "*") && bytes[i + 1] == UInt8(ascii: "/")) { i += 1 }
                i += 2
            case UInt8(ascii: ";"):
                cut(i)
                i += 1
                start = i
            default:
                i += 1
            }
        }
        if start < bytes.count { cut(bytes.count) }
        return statements
    }
}
