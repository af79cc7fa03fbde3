/// A precondition of an op does not hold in the state it is applied to.
package struct SchemaError: Error, CustomStringConvertible, Sendable, Equatable {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

// MARK: - Fold

extension Schema {
    /// The state after `op`. A failed precondition is an error, never skipped:
    /// the check is what makes every op's before-image exact, and so its
    /// inverse correct.
    package func applying(_ op: Op) throws -> Schema {
        var s = self
        try s.apply(op)
        return s
    }

    package func applying(_ ops: [Op]) throws -> Schema {
        var s = self
        for op in ops { try s.apply(op) }
        return s
    }

    package mutating func apply(_ ops: [Op]) throws {
        for op in ops { try apply(op) }
    }

    package mutating func apply(_ op: Op) throws {
        switch op {
        case let .createTable(t, indexes, triggers):
            guard !nameIsTaken(t.name) else { throw SchemaError("cannot create table \(t.name): the name is taken") }
            try Schema.validate(t)
            tables[SQLName(t.name)] = t
            for i in indexes {
                guard SQL.sameName(i.table, t.name) else {
                    throw SchemaError("index \(i.name) carried by table \(t.name) is on \(i.table)")
                }
                try apply(.createIndex(i))
            }
            for tr in triggers {
                guard SQL.sameName(tr.table, t.name) else {
                    throw SchemaError("trigger \(tr.name) carried by table \(t.name) is on \(tr.table)")
                }
                try apply(.createTrigger(tr))
            }

        case let .dropTable(t, indexes, triggers):
            let key = SQLName(t.name)
            guard let existing = tables[key] else { throw SchemaError("cannot drop table \(t.name): no such table") }
            guard existing == t else { throw SchemaError("cannot drop table \(t.name): its definition differs from the one recorded") }
            guard Set(self.indexes(on: t.name)) == Set(indexes) else {
                throw SchemaError("cannot drop table \(t.name): its indexes differ from the ones recorded")
            }
            guard Set(self.triggers(on: t.name)) == Set(triggers) else {
                throw SchemaError("cannot drop table \(t.name): its triggers differ from the ones recorded")
            }
            tables[key] = nil
            for i in indexes { self.indexes[SQLName(i.name)] = nil }
            for tr in triggers { self.triggers[SQLName(tr.name)] = nil }

        case let .renameTable(from, to):
            guard var t = tables[SQLName(from)] else { throw SchemaError("cannot rename table \(from): no such table") }
            // A name that changes only in case is the same name to SQLite, and no other object's.
            guard SQL.sameName(from, to) || !nameIsTaken(to) else { throw SchemaError("cannot rename table \(from) to \(to): the name is taken") }
            tables[SQLName(from)] = nil
            t.name = to
            tables[SQLName(to)] = t
            // SQLite (3.26+) rewrites references everywhere; so do we.
            for (key, var other) in tables {
                var changed = false
                for n in other.constraints.foreignKeys.indices
                where SQL.sameName(other.constraints.foreignKeys[n].referencedTable, from) {
                    other.constraints.foreignKeys[n].referencedTable = to
                    changed = true
                }
                if changed {
                    other.constraints.normalizeOrder()
                    tables[key] = other
                }
            }
            for (key, var i) in indexes where SQL.sameName(i.table, from) {
                i.table = to
                indexes[key] = i
            }
            // SQLite rewrites a view's or trigger's text even when only the
            // name's case changes (the diff compares them with names folded).
            for (key, var tr) in triggers where SQL.mentions(tr.sql, name: from) {
                if SQL.sameName(tr.table, from) { tr.table = to }
                tr.sql = SQL.renamingIdentifier(in: tr.sql, from: from, to: to)
                triggers[key] = tr
            }
            for (key, var v) in views where SQL.mentions(bodyOf: v, name: from) {
                v.sql = SQL.renamingIdentifier(in: v.sql, from: from, to: to)
                views[key] = v
            }

        case let .addColumn(table, column, position):
            var t = try existingTable(table, for: "add column \(column.name) to")
            guard t.columnIndex(column.name) == nil else {
                throw SchemaError("cannot add column \(table).\(column.name): it exists")
            }
            guard position >= 0, position <= t.columns.count else {
                throw SchemaError("cannot add column \(table).\(column.name) at position \(position): the table has \(t.columns.count) columns")
            }
            t.columns.insert(column, at: position)
            tables[SQLName(table)] = t

        case let .dropColumn(table, column, position):
            var t = try existingTable(table, for: "drop column \(column.name) from")
            guard position >= 0, position < t.columns.count, t.columns[position] == column else {
                throw SchemaError("cannot drop column \(table).\(column.name): it is not at position \(position) with the recorded definition")
            }
            guard t.columns.count > 1 else { throw SchemaError("cannot drop column \(table).\(column.name): it is the table's only column") }
            if let why = dependents(ofColumn: column.name, in: t) {
                throw SchemaError("cannot drop column \(table).\(column.name): \(why)")
            }
            t.columns.remove(at: position)
            tables[SQLName(table)] = t

        case let .renameColumn(table, from, to):
            var t = try existingTable(table, for: "rename column \(from) of")
            guard let n = t.columnIndex(from) else { throw SchemaError("cannot rename column \(table).\(from): no such column") }
            guard SQL.sameName(from, to) || t.columnIndex(to) == nil else {
                throw SchemaError("cannot rename column \(table).\(from) to \(to): the name is taken")
            }
            t.columns[n].name = to
            func rename(_ names: [String]) -> [String] { names.map { SQL.sameName($0, from) ? to : $0 } }
            t.constraints.primaryKey = rename(t.constraints.primaryKey)
            t.constraints.uniques = t.constraints.uniques.map(rename)
            for k in t.constraints.checks.indices {
                t.constraints.checks[k].expression = SQL.renamingIdentifier(in: t.constraints.checks[k].expression, from: from, to: to)
            }
            for k in t.columns.indices {
                if let g = t.columns[k].generated {
                    t.columns[k].generated?.expression = SQL.renamingIdentifier(in: g.expression, from: from, to: to)
                }
            }
            for k in t.constraints.foreignKeys.indices {
                t.constraints.foreignKeys[k].columns = rename(t.constraints.foreignKeys[k].columns)
            }
            tables[SQLName(table)] = t
            // Foreign keys that reference the column (the table's own included).
            for (key, var other) in tables {
                var changed = false
                for k in other.constraints.foreignKeys.indices
                where SQL.sameName(other.constraints.foreignKeys[k].referencedTable, table) {
                    let renamed = rename(other.constraints.foreignKeys[k].referencedColumns)
                    if renamed != other.constraints.foreignKeys[k].referencedColumns {
                        other.constraints.foreignKeys[k].referencedColumns = renamed
                        changed = true
                    }
                }
                if changed || key == SQLName(table) {
                    other.constraints.normalizeOrder()
                    tables[key] = other
                }
            }
            for (key, var i) in indexes where SQL.sameName(i.table, table) {
                i.terms = i.terms.map { SQL.renamingIdentifier(in: $0, from: from, to: to) }
                i.predicate = i.predicate.map { SQL.renamingIdentifier(in: $0, from: from, to: to) }
                indexes[key] = i
            }

        case let .alterColumn(table, from, to):
            var t = try existingTable(table, for: "alter column \(from.name) of")
            guard SQL.sameName(from.name, to.name) else {
                throw SchemaError("alter column \(table).\(from.name) cannot rename it to \(to.name): use a rename")
            }
            guard let n = t.columnIndex(from.name) else { throw SchemaError("cannot alter column \(table).\(from.name): no such column") }
            guard t.columns[n] == from else {
                throw SchemaError("cannot alter column \(table).\(from.name): its definition differs from the one recorded")
            }
            t.columns[n] = to
            tables[SQLName(table)] = t

        case let .alterConstraints(table, from, to):
            var t = try existingTable(table, for: "alter constraints of")
            guard t.constraints == from else {
                throw SchemaError("cannot alter constraints of \(table): they differ from the ones recorded")
            }
            t.constraints = to
            t.constraints.normalizeOrder()
            try Schema.validate(t)
            tables[SQLName(table)] = t

        case let .reorderColumns(table, from, to):
            var t = try existingTable(table, for: "reorder columns of")
            guard t.columns.map({ SQL.nameKey($0.name) }) == from.map({ SQL.nameKey($0) }) else {
                throw SchemaError("cannot reorder columns of \(table): the current order differs from the one recorded")
            }
            guard Set(to.map { SQL.nameKey($0) }) == Set(from.map { SQL.nameKey($0) }), to.count == from.count else {
                throw SchemaError("cannot reorder columns of \(table): the new order is not a permutation of the columns")
            }
            t.columns = to.map { name in t.column(name)! }
            tables[SQLName(table)] = t

        case let .createIndex(i):
            guard tables[SQLName(i.table)] != nil else {
                throw SchemaError("cannot create index \(i.name): no table \(i.table)")
            }
            guard !nameIsTaken(i.name) else { throw SchemaError("cannot create index \(i.name): the name is taken") }
            indexes[SQLName(i.name)] = i

        case let .dropIndex(i):
            guard let existing = indexes[SQLName(i.name)] else { throw SchemaError("cannot drop index \(i.name): no such index") }
            guard existing == i else { throw SchemaError("cannot drop index \(i.name): its definition differs from the one recorded") }
            indexes[SQLName(i.name)] = nil

        case let .createView(v):
            guard !nameIsTaken(v.name) else { throw SchemaError("cannot create view \(v.name): the name is taken") }
            views[SQLName(v.name)] = v

        case let .dropView(v):
            guard let existing = views[SQLName(v.name)] else { throw SchemaError("cannot drop view \(v.name): no such view") }
            guard existing == v else { throw SchemaError("cannot drop view \(v.name): its definition differs from the one recorded") }
            if let tr = triggers.values.first(where: { SQL.sameName($0.table, v.name) }) {
                throw SchemaError("cannot drop view \(v.name): trigger \(tr.name) is on it (drop the trigger first)")
            }
            views[SQLName(v.name)] = nil

        case let .createVirtualTable(v):
            guard !nameIsTaken(v.name) else { throw SchemaError("cannot create virtual table \(v.name): the name is taken") }
            virtualTables[SQLName(v.name)] = v

        case let .dropVirtualTable(v):
            guard let existing = virtualTables[SQLName(v.name)] else {
                throw SchemaError("cannot drop virtual table \(v.name): no such virtual table")
            }
            guard existing == v else { throw SchemaError("cannot drop virtual table \(v.name): its definition differs from the one recorded") }
            virtualTables[SQLName(v.name)] = nil

        case .exec:
            // Rows change; the schema does not (`revision` proves it).
            break

        case let .alterVirtualTable(from, to):
            guard let existing = virtualTables[SQLName(from.name)] else {
                throw SchemaError("cannot alter virtual table \(from.name): no such virtual table")
            }
            guard existing == from else { throw SchemaError("cannot alter virtual table \(from.name): its definition differs from the one recorded") }
            guard SQL.sameName(from.name, to.name) else {
                throw SchemaError("cannot alter virtual table \(from.name) into \(to.name): the names differ")
            }
            virtualTables[SQLName(from.name)] = to

        case let .createTrigger(tr):
            guard tables[SQLName(tr.table)] != nil || views[SQLName(tr.table)] != nil else {
                throw SchemaError("cannot create trigger \(tr.name): no table or view \(tr.table)")
            }
            guard triggers[SQLName(tr.name)] == nil else { throw SchemaError("cannot create trigger \(tr.name): the name is taken") }
            triggers[SQLName(tr.name)] = tr

        case let .dropTrigger(tr):
            guard let existing = triggers[SQLName(tr.name)] else { throw SchemaError("cannot drop trigger \(tr.name): no such trigger") }
            guard existing == tr else { throw SchemaError("cannot drop trigger \(tr.name): its definition differs from the one recorded") }
            triggers[SQLName(tr.name)] = nil
        }
    }

    private func existingTable(_ name: String, for action: String) throws -> Table {
        guard let t = tables[SQLName(name)] else { throw SchemaError("cannot \(action) table \(name): no such table") }
        return t
    }

    /// Why a column cannot be dropped without losing something, or nil.
    func dependents(ofColumn column: String, in t: Table) -> String? {
        let c = SQL.nameKey(column)
        if t.constraints.primaryKey.contains(where: { SQL.nameKey($0) == c }) { return "it is part of the primary key" }
        if t.constraints.uniques.contains(where: { $0.contains { SQL.nameKey($0) == c } }) { return "it has a UNIQUE constraint" }
        if t.constraints.foreignKeys.contains(where: { $0.columns.contains { SQL.nameKey($0) == c } }) {
            return "it is part of a foreign key"
        }
        if t.constraints.checks.contains(where: { SQL.mentions($0.expression, name: column) }) { return "a CHECK constraint uses it" }
        for other in t.columns where SQL.nameKey(other.name) != c {
            if let g = other.generated, SQL.mentions(g.expression, name: column) { return "generated column \(other.name) uses it" }
        }
        for i in indexes(on: t.name) where i.terms.contains(where: { SQL.mentions($0, name: column) })
            || (i.predicate.map { SQL.mentions($0, name: column) } ?? false) {
            return "index \(i.name) uses it"
        }
        // A foreign key of another table that references the column is
        // SQLite's to accept (it does, as it accepts one that references a
        // column not made yet); lint's BK101 reports it if the revision
        // leaves it so.
        return nil
    }

    /// The structural rules SQLite itself enforces on a table definition.
    static func validate(_ t: Table) throws {
        var seen = Set<String>()
        for c in t.columns {
            guard seen.insert(SQL.nameKey(c.name)).inserted else {
                throw SchemaError("table \(t.name) has two columns named \(c.name)")
            }
        }
        guard !t.columns.isEmpty else { throw SchemaError("table \(t.name) has no columns") }
        for name in t.constrainedColumns where !seen.contains(name) {
            throw SchemaError("a constraint of table \(t.name) names column \(name), which it does not have")
        }
        if t.constraints.autoincrement {
            guard t.constraints.primaryKey.count == 1,
                  let pk = t.column(t.constraints.primaryKey[0]), pk.type.uppercased() == "INTEGER" else {
                throw SchemaError("AUTOINCREMENT on table \(t.name) needs an INTEGER PRIMARY KEY")
            }
        }
    }
}
