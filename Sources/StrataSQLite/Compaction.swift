import StrataCore

/// Plans less work than the history on the way up: when one run applies
/// several events to the same table, the table is rebuilt once, and a table
/// created in the run is created in its final shape instead of being
/// created and then altered or rebuilt.
///
/// Ops that reshape a table are absorbed into a pending table; the table is
/// written out (flushed) when something needs it as it is, and at the end of
/// the run. What an absorbed op would have stashed is stashed exactly as
/// the event-by-event run would (the same stash, the same rows), read from
/// the table as it still physically is. Whatever cannot be proved the same
/// that way is planned as usual, after its table is flushed:
/// - data steps (`exec`), views, triggers and virtual tables: every pending
///   table is flushed first (a data step sees the schema its event saw);
/// - an op with data checks (lint's MF codes) on a table that holds rows,
///   after every pending table (a check may read another table);
/// - a value an absorbed op would stash that the physical table does not
///   hold as it is (a column added with a non-NULL default, or one an
///   alter of this run rewrote), and a second rewriting alter of a column.
/// An alter that rewrites stored values (an affinity change, NULLs replaced
/// by a default) stashes the old values from the physical table at once and
/// the new ones right after the table's one rebuild.
/// The way down is planned event by event.
struct Compactor {
    enum Pending: Equatable {
        /// Created in this run: nothing of it is in the database yet (and
        /// so it holds no rows: no data step ran since).
        case fresh
        /// In the database as it physically still is.
        case reshape(Reshape)
    }

    struct Reshape: Equatable {
        var physical: Table
        /// Each current column (lowercased) that still holds a physical
        /// column's values unchanged: that column's name.
        var sources: [String: String]
        /// Each current column added in this run: the value every row holds
        /// (its default, or NULL).
        var added: [String: String] = [:]
        /// The physical table's indexes, there until it is written out.
        var indexes: Set<String>
        /// Each current column whose values an alter of this run rewrote
        /// (once): what the new table copies for it, an expression over the
        /// physical table (the alter's own conversion and default).
        var rewritten: [String: String] = [:]
        /// Stashes of those alters, opened with the old values; each is
        /// finished with the new ones once the table is written out.
        var keeps: [DeferredKeep] = []

        struct DeferredKeep: Equatable {
            let stash: String
            let slots: TrashSlots
            let table: Table
            let new: Column
            /// The column's name now (a later op may rename it).
            var column: String
        }

        /// What column `name` holds for each row, as an expression over the
        /// physical table a stash can read: a physical column, or NULL for a
        /// column added without a default (a default would need the
        /// column's affinity applied, which a bare literal does not get).
        func value(of name: String) -> String? {
            if let s = sources[SQL.nameKey(name)] { return DDL.q(s) }
            return added[SQL.nameKey(name)] == "NULL" ? "NULL" : nil
        }

        mutating func rename(_ from: String, to: String) {
            sources[SQL.nameKey(to)] = sources.removeValue(forKey: SQL.nameKey(from))
            added[SQL.nameKey(to)] = added.removeValue(forKey: SQL.nameKey(from))
            rewritten[SQL.nameKey(to)] = rewritten.removeValue(forKey: SQL.nameKey(from))
            for n in keeps.indices where SQL.sameName(keeps[n].column, from) { keeps[n].column = to }
        }

        mutating func forget(_ name: String) {
            sources[SQL.nameKey(name)] = nil
            added[SQL.nameKey(name)] = nil
            rewritten[SQL.nameKey(name)] = nil
        }

        /// Whether a stash waits for column `name`'s new values.
        func waits(for name: String) -> Bool { keeps.contains { SQL.sameName($0.column, name) } }
    }

    private(set) var pending: [String: Pending] = [:]
    private var order: [String] = []
    private var absorbed: [String: Int] = [:]
    /// The event and op each pending table last absorbed: a table's
    /// statements, when it is written out, belong to that op (so a dry run
    /// that finds them failing leaves that op out, not the one that made
    /// the table be written out).
    private var origin: [String: (event: String, op: Int)] = [:]

    private mutating func absorbedOp(_ table: String, _ slots: TrashSlots) {
        absorbed[SQL.nameKey(table), default: 0] += 1
        origin[SQL.nameKey(table)] = (slots.event, slots.op)
    }

    /// What to do with one op: statements that replace it (possibly none),
    /// or plan it as usual after `flush`.
    enum Outcome {
        case absorbed([PlannedStatement])
        case plain(flush: [PlannedStatement])
    }

    mutating func step(_ op: Op, before: Schema, after: Schema, slots: TrashSlots) -> Outcome {
        guard before.views.isEmpty, before.triggers.isEmpty, after.views.isEmpty, after.triggers.isEmpty else {
            return .plain(flush: flushAll(in: before))
        }
        let checked = !DataChecks.checks(for: op, in: before).isEmpty
        switch op {
        case let .createTable(t, indexes, triggers):
            guard triggers.isEmpty, pending[SQL.nameKey(t.name)] == nil else { return .plain(flush: flushAll(in: before)) }
            let waited = ([t.name] + indexes.map(\.name)).flatMap { flushHolders(of: $0, in: before) }
            start(t.name, .fresh)
            origin[SQL.nameKey(t.name)] = (slots.event, slots.op)
            return .absorbed(waited)

        case let .addColumn(table, column, position):
            let t = before.table(table)!
            if pending[SQL.nameKey(table)] == nil && position == t.columns.count && Planner.canAddInPlace(column) { return .plain(flush: []) }
            return reshape(table, before: before, checked: checked, slots: slots) { c in
                if column.generated == nil, case .reshape(var r)? = c.pending[SQL.nameKey(table)] {
                    r.added[SQL.nameKey(column.name)] = column.defaultValue ?? "NULL"
                    c.pending[SQL.nameKey(table)] = .reshape(r)
                }
                return []
            }

        case let .dropColumn(table, column, _):
            let t = before.table(table)!
            if pending[SQL.nameKey(table)] == nil && !t.constraints.withoutRowid && !t.constraints.strict { return .plain(flush: []) }
            return reshape(table, before: before, checked: checked, slots: slots) { c in
                if case let .reshape(r)? = c.pending[SQL.nameKey(table)], r.waits(for: column.name) { return nil }
                guard column.generated == nil, let stash = slots.keep else {
                    c.forget(column.name, of: table)
                    return []
                }
                guard case let .reshape(r)? = c.pending[SQL.nameKey(table)] else {
                    // A fresh table has no rows: an empty stash, as the run event by event leaves.
                    return Trash.keepColumn(t, column, slots, stash: stash, empty: true)
                }
                guard let value = r.value(of: column.name), let keys = Compactor.physicalKey(of: t, in: r) else { return nil }
                c.forget(column.name, of: table)
                return Trash.keepColumn(t, column, slots, stash: stash, reading: keys + [value])
            }

        case let .alterColumn(table, from, to):
            if from.generated != nil || to.generated != nil { return .plain(flush: flush(table, in: before)) }
            let rewrites = Trash.alterRewrites(from: from, to: to)
            let t = before.table(table)!
            return reshape(table, before: before, checked: checked, slots: slots) { c in
                guard case let .reshape(r)? = c.pending[SQL.nameKey(table)] else {
                    guard rewrites, let stash = slots.keep else { return [] }
                    return Trash.keepAlter(t, from, to, slots, stash: stash, rebuild: [], empty: true)
                }
                guard rewrites else { return [] }
                // The values it rewrites are the physical ones (a column
                // rewritten once already is written out first): the stash
                // takes them now, and the new values once the one rebuild
                // has made them; the rebuild copies what this alter makes.
                guard let value = r.value(of: from.name), let keys = Compactor.physicalKey(of: t, in: r) else { return nil }
                var next = r
                let name = SQL.nameKey(from.name)
                if let s = r.sources[name], let old = r.physical.column(s) {
                    next.rewritten[name] = Planner.copy(old, into: to)
                } else {
                    next.rewritten[name] = to.notNull && to.defaultValue != nil && to.defaultValue != "NULL" ? to.defaultValue! : "NULL"
                }
                next.sources[name] = nil
                next.added[name] = nil
                guard let stash = slots.keep else {
                    c.pending[SQL.nameKey(table)] = .reshape(next)
                    return []
                }
                next.keeps.append(.init(stash: stash, slots: slots, table: t, new: to, column: to.name))
                c.pending[SQL.nameKey(table)] = .reshape(next)
                return Trash.keepAlter(t, from, to, slots, stash: stash, rebuild: [], reading: keys + [value], finished: false)
            }

        case let .alterConstraints(table, from, to):
            return reshape(table, before: before, checked: checked, slots: slots) { c in
                // Stashes waiting for new values find their rows by the key.
                if case let .reshape(r)? = c.pending[SQL.nameKey(table)], !r.keeps.isEmpty,
                   from.primaryKey != to.primaryKey || from.withoutRowid != to.withoutRowid { return nil }
                return []
            }

        case let .reorderColumns(table, _, _):
            return reshape(table, before: before, checked: checked, slots: slots) { _ in [] }

        case let .renameColumn(table, from, to):
            // SQLite rewrites other tables' REFERENCES to a renamed column;
            // a rebuild under legacy_alter_table would not.
            let referenced = before.tables.values.contains { other in
                !SQL.sameName(other.name, table) && other.constraints.foreignKeys.contains { SQL.sameName($0.referencedTable, table) }
            }
            guard pending[SQL.nameKey(table)] != nil, !referenced else { return .plain(flush: flush(table, in: before)) }
            if case .reshape(var r)? = pending[SQL.nameKey(table)] {
                r.rename(from, to: to)
                pending[SQL.nameKey(table)] = .reshape(r)
            }
            absorbedOp(table, slots)
            return .absorbed([])

        case let .createIndex(i):
            let waited = flushHolders(of: i.name, in: before)
            guard let p = pending[SQL.nameKey(i.table)] else { return .plain(flush: waited) }
            guard waited.isEmpty else { return .plain(flush: waited + flush(i.table, in: before)) }
            if checked && p != .fresh { return .plain(flush: flush(i.table, in: before)) }
            absorbedOp(i.table, slots)
            return .absorbed([])

        case let .dropIndex(i):
            guard pending[SQL.nameKey(i.table)] != nil else { return .plain(flush: []) }
            absorbedOp(i.table, slots)
            return .absorbed([])

        case let .dropTable(t, _, _):
            guard let p = pending[SQL.nameKey(t.name)] else { return .plain(flush: []) }
            guard p == .fresh else { return .plain(flush: flush(t.name, in: before)) }
            pending[SQL.nameKey(t.name)] = nil
            order.removeAll { $0 == SQL.nameKey(t.name) }
            guard let stash = slots.keep else { return .absorbed([]) }
            return .absorbed(Trash.keepTable(t, slots, stash: stash, empty: true))

        case .renameTable, .createView, .dropView, .createTrigger, .dropTrigger, .createVirtualTable, .dropVirtualTable, .alterVirtualTable, .exec:
            return .plain(flush: flushAll(in: before))
        }
    }

    /// An op that rebuilds `table` in the usual plan: absorbed into the
    /// pending table (started here when the table is in the database), with
    /// the statements `absorb` returns; nil from it means "cannot": the
    /// table is written out and the op planned as usual.
    private mutating func reshape(_ table: String, before: Schema, checked: Bool, slots: TrashSlots,
                                  _ absorb: (inout Compactor) -> [PlannedStatement]?) -> Outcome {
        let key = SQL.nameKey(table)
        // A data check reads the database as the op's statement will see it:
        // every table of the run written out (a new foreign key's check reads
        // its parent, which may be a table created earlier in the run).
        if pending[key] != .fresh && checked { return .plain(flush: flushAll(in: before)) }
        if pending[key] == nil {
            let t = before.table(table)!
            var sources: [String: String] = [:]
            for c in t.columns where c.generated == nil { sources[SQL.nameKey(c.name)] = c.name }
            start(table, .reshape(Reshape(physical: t, sources: sources, indexes: Set(before.indexes(on: table).map { SQL.nameKey($0.name) }))))
        }
        var copy = self
        copy.absorbedOp(table, slots)
        guard let statements = absorb(&copy) else { return .plain(flush: flush(table, in: before)) }
        self = copy
        return .absorbed(statements)
    }

    private mutating func start(_ table: String, _ p: Pending) {
        pending[SQL.nameKey(table)] = p
        order.append(SQL.nameKey(table))
    }

    private mutating func forget(_ column: String, of table: String) {
        guard case .reshape(var r)? = pending[SQL.nameKey(table)] else { return }
        r.forget(column)
        pending[SQL.nameKey(table)] = .reshape(r)
    }

    /// The physical expressions of `t`'s row key, when they identify the
    /// same rows as `t`'s own key would in the run event by event.
    static func physicalKey(of t: Table, in r: Reshape) -> [String]? {
        let (physical, sources) = (r.physical, r.sources)
        guard t.constraints.withoutRowid == physical.constraints.withoutRowid, Trash.isRowidAlias(t) == Trash.isRowidAlias(physical) else { return nil }
        let mapped = t.constraints.primaryKey.map { sources[SQL.nameKey($0)] }
        guard !mapped.contains(where: { $0 == nil }), mapped.map({ SQL.nameKey($0!) }) == physical.constraints.primaryKey.map({ SQL.nameKey($0) }) else { return nil }
        return Trash.rowKey(t).map { $0 == "rowid" ? "rowid" : DDL.q(sources[SQL.nameKey(SQL.unquote($0))]!) }
    }

    /// Writes `table` out as `state` has it: a fresh one created in its
    /// final shape with its indexes, a reshaped one rebuilt once.
    mutating func flush(_ table: String, in state: Schema) -> [PlannedStatement] {
        let key = SQL.nameKey(table)
        guard let p = pending.removeValue(forKey: key), let t = state.table(table) else { return [] }
        order.removeAll { $0 == key }
        let ops = absorbed.removeValue(forKey: key) ?? 0
        let from = origin.removeValue(forKey: key)
        return written(p, t, key: key, ops: ops, in: state).map { statement in
            var s = statement
            s.originEvent = from?.event
            s.originOp = from?.op
            return s
        }
    }

    private func written(_ p: Pending, _ t: Table, key: String, ops: Int, in state: Schema) -> [PlannedStatement] {
        switch p {
        case .fresh:
            let note = ops > 0 ? " (its final shape: \(ops) later op\(ops == 1 ? "" : "s") of this run compacted)" : ""
            return [PlannedStatement(DDL.createTable(t), "create table \(t.name)\(note)")]
                + state.indexes(on: t.name).map { PlannedStatement(DDL.createIndex($0), "create index \($0.name)") }
        case let .reshape(r):
            var was = Schema()
            was.tables[SQLName(r.physical.name)] = r.physical
            var copied: [String: String] = [:]
            for c in t.columns where c.generated == nil {
                if let s = r.sources[SQL.nameKey(c.name)], let old = r.physical.column(s) {
                    copied[SQL.nameKey(c.name)] = Planner.copy(old, into: c)
                } else if let value = r.rewritten[SQL.nameKey(c.name)] {
                    copied[SQL.nameKey(c.name)] = value
                } else if let value = r.added[SQL.nameKey(c.name)] {
                    // What the row got when the column was added (a later
                    // default does not reach rows that existed then), unless
                    // a NOT NULL with a default replaced its NULL since.
                    if value == "NULL", c.notNull, let d = c.defaultValue, d != "NULL" {
                        copied[SQL.nameKey(c.name)] = d
                    } else {
                        copied[SQL.nameKey(c.name)] = value
                    }
                }
            }
            return Planner.rebuild(table: t.name, before: was, after: state, sources: copied,
                                   label: ops > 1 ? "rebuild \(t.name) once for \(ops) ops of this run" : nil)
                + r.keeps.flatMap { k in
                    let (label, what) = Trash.keepAlterWords(k.table, k.new)
                    return Trash.finishKeepAlter(t, column: k.column, k.slots, stash: k.stash, what: what, label: label)
                }
        }
    }

    /// Writes out every pending table, in the order they were first touched.
    mutating func flushAll(in state: Schema) -> [PlannedStatement] {
        var plan: [PlannedStatement] = []
        for table in order { plan += flush(table, in: state) }
        return plan
    }

    /// A reshaped table still holds its old indexes until it is written
    /// out: a new table or index of the same name must wait for that.
    mutating func flushHolders(of name: String, in state: Schema) -> [PlannedStatement] {
        var plan: [PlannedStatement] = []
        for table in order {
            if case let .reshape(r)? = pending[table], r.indexes.contains(SQL.nameKey(name)) { plan += flush(table, in: state) }
        }
        return plan
    }
}
