/// Which events created and changed a table or column, following renames
/// back in time (the entity keeps its identity across them).
package enum Blame {
    package struct Entry: Sendable {
        package let event: Event
        package let ops: [Op]
    }

    /// `events` oldest first (a linear history); the result is newest first.
    package static func entries(table: String, column: String?, in events: [Event]) -> [Entry] {
        var tableName = SQL.nameKey(table)
        var columnName = column.map(SQL.nameKey)
        var result: [Entry] = []
        for e in events.reversed() {
            var touching: [Op] = []
            for op in e.ops.reversed() {
                switch op {
                case let .renameTable(from, to) where SQL.nameKey(to) == tableName:
                    touching.append(op)
                    tableName = SQL.nameKey(from)
                case let .renameColumn(t, from, to) where SQL.nameKey(t) == tableName && SQL.nameKey(to) == columnName:
                    touching.append(op)
                    columnName = SQL.nameKey(from)
                default:
                    if touches(op, table: tableName, column: columnName) { touching.append(op) }
                }
            }
            if !touching.isEmpty { result.append(Entry(event: e, ops: touching.reversed())) }
        }
        return result
    }

    static func touches(_ op: Op, table: String, column: String?) -> Bool {
        guard op.tableName.map(SQL.nameKey) == table else { return false }
        guard let column else { return true }
        switch op {
        case let .createTable(t, _, _), let .dropTable(t, _, _): return t.column(column) != nil
        case let .addColumn(_, c, _), let .dropColumn(_, c, _): return SQL.nameKey(c.name) == column
        case let .alterColumn(_, from, _): return SQL.nameKey(from.name) == column
        case let .renameColumn(_, from, to): return SQL.nameKey(from) == column || SQL.nameKey(to) == column
        case let .alterConstraints(_, from, to):
            return [from, to].contains { k in
                k.primaryKey.contains { SQL.nameKey($0) == column }
                    || k.uniques.contains { $0.contains { SQL.nameKey($0) == column } }
                    || k.foreignKeys.contains { $0.columns.contains { SQL.nameKey($0) == column } }
                    || k.checks.contains { SQL.mentions($0.expression, name: column) }
            }
        case let .createIndex(i), let .dropIndex(i):
            return i.terms.contains { SQL.mentions($0, name: column) } || (i.predicate.map { SQL.mentions($0, name: column) } ?? false)
        case .reorderColumns: return true
        case let .createVirtualTable(v), let .dropVirtualTable(v): return v.columns.contains { SQL.nameKey($0) == column }
        case let .alterVirtualTable(from, to): return (from.columns + to.columns).contains { SQL.nameKey($0) == column }
        case .renameTable, .createView, .dropView, .createTrigger, .dropTrigger, .exec: return false
        }
    }
}
