/// Which events created and changed a table or column, following renames
/// back in time (the entity keeps its identity across them).
package enum Blame {
    package struct Entry: Sendable {
        package let event: Event
        package let ops: [Op]
    }

    /// `events` oldest first (a linear history); the result is newest first.
    package static func entries(table: String, column: String?, in events: [Event]) -> [Entry] {
        var tableName = table.lowercased()
        var columnName = column?.lowercased()
        var result: [Entry] = []
        for e in events.reversed() {
            var touching: [Op] = []
            for op in e.ops.reversed() {
                switch op {
                case let .renameTable(from, to) where to.lowercased() == tableName:
                    touching.append(op)
                    tableName = from.lowercased()
                case let .renameColumn(t, from, to) where t.lowercased() == tableName && to.lowercased() == columnName:
                    touching.append(op)
                    columnName = from.lowercased()
                default:
                    if touches(op, table: tableName, column: columnName) { touching.append(op) }
                }
            }
            if !touching.isEmpty { result.append(Entry(event: e, ops: touching.reversed())) }
        }
        return result
    }

    static func touches(_ op: Op, table: String, column: String?) -> Bool {
        guard op.tableName?.lowercased() == table else { return false }
        guard let column else { return true }
        switch op {
        case let .createTable(t, _, _), let .dropTable(t, _, _): return t.column(column) != nil
        case let .addColumn(_, c, _), let .dropColumn(_, c, _): return c.name.lowercased() == column
        case let .alterColumn(_, from, _): return from.name.lowercased() == column
        case let .renameColumn(_, from, to): return from.lowercased() == column || to.lowercased() == column
        case let .alterConstraints(_, from, to):
            return [from, to].contains { k in
                k.primaryKey.contains { $0.lowercased() == column }
                    || k.uniques.contains { $0.contains { $0.lowercased() == column } }
                    || k.foreignKeys.contains { $0.columns.contains { $0.lowercased() == column } }
                    || k.checks.contains { SQL.mentions($0.expression, name: column) }
            }
        case let .createIndex(i), let .dropIndex(i):
            return i.terms.contains { SQL.mentions($0, name: column) } || (i.predicate.map { SQL.mentions($0, name: column) } ?? false)
        case .reorderColumns: return true
        case let .createVirtualTable(v), let .dropVirtualTable(v): return v.columns.contains { $0.lowercased() == column }
        case let .alterVirtualTable(from, to): return (from.columns + to.columns).contains { $0.lowercased() == column }
        case .renameTable, .createView, .dropView, .createTrigger, .dropTrigger, .exec: return false
        }
    }
}
