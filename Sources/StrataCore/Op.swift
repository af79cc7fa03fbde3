/// Which way an event is applied: its ops (`up`) or their inverses (`down`).
package enum Direction: String, Sendable, CaseIterable {
    case up, down
}

/// One structured schema operation. Every case carries the before-image it
/// destroys, so `inverse` never needs a lookup and never fails, and
/// `op.inverse.inverse == op` for every op.
package enum Op: Hashable, Sendable {
    case createTable(Table, indexes: [Index], triggers: [Trigger])
    case dropTable(Table, indexes: [Index], triggers: [Trigger])
    case renameTable(from: String, to: String)
    /// `position` is the column's index after the op; adding anywhere but at
    /// the end needs a table rebuild.
    case addColumn(table: String, column: Column, position: Int)
    case dropColumn(table: String, column: Column, position: Int)
    case renameColumn(table: String, from: String, to: String)
    /// Type, nullability, default or collation; both columns have the same name.
    case alterColumn(table: String, from: Column, to: Column)
    case alterConstraints(table: String, from: TableConstraints, to: TableConstraints)
    case reorderColumns(table: String, from: [String], to: [String])
    case createIndex(Index)
    case dropIndex(Index)
    case createView(View)
    case dropView(View)
    case createTrigger(Trigger)
    case dropTrigger(Trigger)
    case createVirtualTable(VirtualTable)
    case dropVirtualTable(VirtualTable)
    /// A new definition for a virtual table of the same name; its rows are
    /// carried across where the module allows (see the planner).
    case alterVirtualTable(from: VirtualTable, to: VirtualTable)
    /// A data step: SQL that changes rows, never the schema (`UPDATE`,
    /// `INSERT`, `DELETE`), and the SQL that undoes it. Its inverse swaps the
    /// two; a nil `forward` is the irreversible direction (no reverse was
    /// given), which a downgrade refuses to pass unless told to.
    case exec(forward: String?, reverse: String?)

    /// The op's name in the canonical encoding. The encoder writes it and the
    /// decoder switches on it with no `default`, so a new case must be given
    /// a name and a decoder before anything compiles.
    package enum Kind: String, Sendable, CaseIterable {
        case createTable, dropTable, renameTable, addColumn, dropColumn, renameColumn, alterColumn, alterConstraints
        case reorderColumns, createIndex, dropIndex, createView, dropView, createTrigger, dropTrigger
        case createVirtualTable, dropVirtualTable, alterVirtualTable, exec
    }

    package var kind: Kind {
        switch self {
        case .createTable: return .createTable
        case .dropTable: return .dropTable
        case .renameTable: return .renameTable
        case .addColumn: return .addColumn
        case .dropColumn: return .dropColumn
        case .renameColumn: return .renameColumn
        case .alterColumn: return .alterColumn
        case .alterConstraints: return .alterConstraints
        case .reorderColumns: return .reorderColumns
        case .createIndex: return .createIndex
        case .dropIndex: return .dropIndex
        case .createView: return .createView
        case .dropView: return .dropView
        case .createTrigger: return .createTrigger
        case .dropTrigger: return .dropTrigger
        case .createVirtualTable: return .createVirtualTable
        case .dropVirtualTable: return .dropVirtualTable
        case .alterVirtualTable: return .alterVirtualTable
        case .exec: return .exec
        }
    }

    package var inverse: Op {
        switch self {
        case let .createTable(t, indexes, triggers): return .dropTable(t, indexes: indexes, triggers: triggers)
        case let .dropTable(t, indexes, triggers): return .createTable(t, indexes: indexes, triggers: triggers)
        case let .renameTable(from, to): return .renameTable(from: to, to: from)
        case let .addColumn(table, column, position): return .dropColumn(table: table, column: column, position: position)
        case let .dropColumn(table, column, position): return .addColumn(table: table, column: column, position: position)
        case let .renameColumn(table, from, to): return .renameColumn(table: table, from: to, to: from)
        case let .alterColumn(table, from, to): return .alterColumn(table: table, from: to, to: from)
        case let .alterConstraints(table, from, to): return .alterConstraints(table: table, from: to, to: from)
        case let .reorderColumns(table, from, to): return .reorderColumns(table: table, from: to, to: from)
        case let .createIndex(i): return .dropIndex(i)
        case let .dropIndex(i): return .createIndex(i)
        case let .createView(v): return .dropView(v)
        case let .dropView(v): return .createView(v)
        case let .createTrigger(t): return .dropTrigger(t)
        case let .dropTrigger(t): return .createTrigger(t)
        case let .createVirtualTable(v): return .dropVirtualTable(v)
        case let .dropVirtualTable(v): return .createVirtualTable(v)
        case let .alterVirtualTable(from, to): return .alterVirtualTable(from: to, to: from)
        case let .exec(forward, reverse): return .exec(forward: reverse, reverse: forward)
        }
    }

    /// The table this op changes, if it changes one.
    package var tableName: String? {
        switch self {
        case let .createTable(t, _, _), let .dropTable(t, _, _): return t.name
        case let .renameTable(from, _): return from
        case let .addColumn(table, _, _), let .dropColumn(table, _, _), let .renameColumn(table, _, _),
             let .alterColumn(table, _, _), let .alterConstraints(table, _, _), let .reorderColumns(table, _, _):
            return table
        case let .createIndex(i), let .dropIndex(i): return i.table
        case let .createTrigger(t), let .dropTrigger(t): return t.table
        case let .createVirtualTable(v), let .dropVirtualTable(v), let .alterVirtualTable(v, _): return v.name
        case .createView, .dropView, .exec: return nil
        }
    }

    /// A one-line description for `history` and `show`.
    package var summary: String {
        switch self {
        case let .createTable(t, indexes, triggers):
            var s = "create table \(t.name) (\(t.columns.map(\.name).joined(separator: ", ")))"
            if !indexes.isEmpty { s += " with \(indexes.count) index\(indexes.count == 1 ? "" : "es")" }
            if !triggers.isEmpty { s += " and \(triggers.count) trigger\(triggers.count == 1 ? "" : "s")" }
            return s
        case let .dropTable(t, _, _): return "drop table \(t.name)"
        case let .renameTable(from, to): return "rename table \(from) to \(to)"
        case let .addColumn(table, column, _):
            let generated = column.generated.map { " generated (\($0.stored ? "stored" : "virtual"))" } ?? ""
            return "add column \(table).\(column.name) \(column.type)".trimmingTrailingSpace + generated
        case let .dropColumn(table, column, _): return "drop column \(table).\(column.name)"
        case let .renameColumn(table, from, to): return "rename column \(table).\(from) to \(to)"
        case let .alterColumn(table, from, to):
            var changes: [String] = []
            if from.typeKey != to.typeKey { changes.append("type \(from.type.orNone) -> \(to.type.orNone)") }
            if from.notNull != to.notNull { changes.append(to.notNull ? "set NOT NULL" : "drop NOT NULL") }
            if from.defaultValue != to.defaultValue {
                changes.append("default \(from.defaultValue ?? "none") -> \(to.defaultValue ?? "none")")
            }
            if from.collation != to.collation {
                changes.append("collate \(from.collation ?? "BINARY") -> \(to.collation ?? "BINARY")")
            }
            if from.generated != to.generated {
                func describe(_ g: Generated?) -> String { g.map { "AS (\($0.expression)) \($0.stored ? "STORED" : "VIRTUAL")" } ?? "none" }
                changes.append("generated \(describe(from.generated)) -> \(describe(to.generated))")
            }
            return "alter column \(table).\(from.name): \(changes.joined(separator: ", "))"
        case let .alterConstraints(table, from, to):
            var changes: [String] = []
            if from.primaryKey != to.primaryKey { changes.append("primary key") }
            if from.autoincrement != to.autoincrement { changes.append("autoincrement") }
            if from.uniques != to.uniques { changes.append("unique") }
            if from.foreignKeys != to.foreignKeys { changes.append("foreign keys") }
            if from.checks != to.checks { changes.append("checks") }
            if from.withoutRowid != to.withoutRowid { changes.append("without rowid") }
            if from.strict != to.strict { changes.append("strict") }
            return "alter constraints of \(table): \(changes.joined(separator: ", "))"
        case let .reorderColumns(table, _, to): return "reorder columns of \(table): \(to.joined(separator: ", "))"
        case let .createIndex(i): return "create \(i.unique ? "unique " : "")index \(i.name) on \(i.table)"
        case let .dropIndex(i): return "drop index \(i.name)"
        case let .createView(v): return "create view \(v.name)"
        case let .dropView(v): return "drop view \(v.name)"
        case let .createTrigger(t): return "create trigger \(t.name) on \(t.table)"
        case let .dropTrigger(t): return "drop trigger \(t.name)"
        case let .createVirtualTable(v): return "create virtual table \(v.name)"
        case let .dropVirtualTable(v): return "drop virtual table \(v.name)"
        case let .alterVirtualTable(_, to): return "alter virtual table \(to.name)"
        case let .exec(forward, reverse):
            guard let forward else { return "data step that cannot be undone (it was recorded without reverse SQL)" }
            let text = SQL.normalize(forward)
            let shown = text.count > 60 ? String(text.prefix(57)) + "..." : text
            return "data step: \(shown)" + (reverse == nil ? " (irreversible: no reverse SQL)" : "")
        }
    }
}

extension String {
    var trimmingTrailingSpace: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }

    var orNone: String { isEmpty ? "(none)" : self }
}

extension Array where Element == Op {
    /// The ops that undo these, newest first.
    package var inverted: [Op] { reversed().map(\.inverse) }
}
