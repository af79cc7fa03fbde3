import StrataCore

/// One statement of a plan, with a short label that says what it is for
/// ("rebuild users: copy rows"); `--sql` prints the labels as comments.
/// Guards, when present, are checked by the applier before the statement
/// runs, so an op that cannot succeed on this database's rows fails with a
/// message that says why instead of an SQLite constraint error.
/// A NOT NULL column a way back restores, for rows of which nothing was kept.
package struct UnfilledColumn: Hashable, Sendable {
    package let table: String
    package let column: String
}

package struct PlannedStatement: Hashable, Sendable {
    package var sql: String
    package var label: String
    /// Data checks of the op (lint's MF codes): each must count no rows.
    package var checks: [DataCheck] = []
    /// The restored NOT NULL column whose rows `guardCount` counts: rows
    /// with nothing kept and no fill value.
    package var guardUnfilled: UnfilledColumn?
    /// A query that counts the rows the statement cannot handle; it must
    /// count none.
    package var guardCount: String?
    /// Kept data this statement starts keeping or restoring.
    package var trash: TrashNote?
    /// The event and op this statement carries out, when not the op it is
    /// planned with (a compacted table written out later).
    package var originEvent: String?
    package var originOp: Int?
    /// What the statement may do when it runs (a data step's rows only).
    package var confinement: Confinement = .schema

    init(_ sql: String, _ label: String) {
        self.sql = sql
        self.label = label
    }
}

extension PlannedStatement {
    /// Statements as `--sql` prints them: each label once as a comment above
    /// the statements that share it (a rebuild's rename is three), a guard's
    /// requirement as a comment, every statement ended by `;`.
    package static func script(_ statements: [PlannedStatement]) -> String {
        var out = ""
        var currentLabel: String?
        for s in statements {
            if s.label != currentLabel {
                out += "-- \(s.label)\n"
                currentLabel = s.label
            }
            for check in s.checks { out += "-- requires (\(check.code)): `\(check.count)` counts no rows\n" }
            if let count = s.guardCount { out += "-- requires: `\(count)` counts no rows\n" }
            out += s.sql + ";\n"
        }
        return out
    }
}

/// Turns an op into SQLite statements (Atlas's "plan"). Pure: it reads the
/// state before the op, never the database.
package enum Planner {
    /// The statements that apply `ops` in order, each planned against the
    /// state the ones before it leave (`show`'s SQL both ways).
    package static func statements(for ops: [Op], in before: Schema) throws -> [PlannedStatement] {
        var state = before
        var plan: [PlannedStatement] = []
        for op in ops {
            plan += try statements(for: op, in: state)
            try state.apply(op)
        }
        return plan
    }

    /// The statements that apply `op` to a target database whose schema is
    /// `before`, keeping what it destroys and bringing back what its inverse
    /// kept (see `TrashSlots`).
    package static func statements(for op: Op, in before: Schema, trash slots: TrashSlots) throws -> [PlannedStatement] {
        let after = try before.applying(op)
        switch op {
        case let .dropColumn(table, column, _):
            let plain = try statements(for: op, in: before)
            guard let keep = slots.keep ?? slots.keepCreated, column.generated == nil else { return plain }
            return Trash.keepColumn(before.table(table)!, column, slots, stash: keep) + plain

        case let .dropTable(t, _, _):
            let plain = try statements(for: op, in: before)
            guard let keep = slots.keep ?? slots.keepCreated else { return plain }
            return Trash.keepTable(t, slots, stash: keep) + plain

        case let .addColumn(table, column, position):
            guard column.generated == nil, let stash = slots.restore else { return try statements(for: op, in: before) }
            let t = before.table(table)!
            let open = Trash.openColumnStash(t, column, stash: stash)
            guard column.notNull && (column.defaultValue == nil || column.defaultValue == "NULL") else {
                return open + (try statements(for: op, in: before)) + Trash.restoreColumn(after.table(table)!, column, stash: stash)
            }
            // A NOT NULL column without a default takes its values in the
            // rebuild's copy: the kept value, else --fill, else the row
            // cannot be copied and the run is refused before it starts.
            let found = "(SELECT s.\(DDL.q(column.name)) FROM \(DDL.q(stash)) AS s WHERE \(Trash.match(t, stash: "s", table: DDL.q(t.name))))"
            let value = slots.fill.map { "coalesce(\(found), \($0))" } ?? found
            var plan = open
            plan.append(PlannedStatement("CREATE INDEX IF NOT EXISTS \(DDL.q(stash + "_keys")) ON \(DDL.q(stash)) (\(Trash.keyColumns(t).joined(separator: ", ")))",
                                         "bring back the values of \(table).\(column.name)"))
            var rebuilt = rebuild(table: table, before: before, after: after, fill: [SQL.nameKey(column.name): value])
            if slots.fill == nil {
                rebuilt[0].guardCount = "SELECT count(*) FROM \(DDL.q(table)) WHERE \(found) IS NULL"
                rebuilt[0].guardUnfilled = UnfilledColumn(table: table, column: column.name)
            }
            _ = position
            return plan + rebuilt + Trash.discard(stash, label: "bring back the values of \(table).\(column.name)")

        case let .createTable(t, indexes, triggers):
            guard let stash = slots.restore else { return try statements(for: op, in: before) }
            // The rows come back before the triggers exist, so none fires.
            return [PlannedStatement(DDL.createTable(t), "create table \(t.name)")]
                + Trash.restoreTable(t, stash: stash)
                + indexes.map { PlannedStatement(DDL.createIndex($0), "create index \($0.name)") }
                + triggers.map { PlannedStatement($0.sql, "create trigger \($0.name)") }

        case let .alterColumn(table, from, to):
            // The way up keeps what this alter rewrites; the way down (this
            // is then the inverse) restores what the way up kept.
            let plain = try statements(for: op, in: before)
            if let keep = slots.keep, Trash.alterRewrites(from: from, to: to) {
                return Trash.keepAlter(before.table(table)!, from, to, slots, stash: keep, rebuild: plain)
            }
            if slots.direction == .down, let restore = slots.restore, Trash.alterRewrites(from: to, to: from) {
                return Trash.restoreAlter(before.table(table)!, from, to, stash: restore, rebuild: plain)
            }
            return plain

        default:
            return try statements(for: op, in: before)
        }
    }

    /// The statements that apply `op` to a database whose schema is
    /// `before`; the first carries the op's data checks.
    package static func statements(for op: Op, in before: Schema) throws -> [PlannedStatement] {
        var plan = try unchecked(op, in: before)
        if !plan.isEmpty { plan[0].checks = DataChecks.checks(for: op, in: before) }
        return plan
    }

    static func unchecked(_ op: Op, in before: Schema) throws -> [PlannedStatement] {
        let after = try before.applying(op)
        switch op {
        case let .createTable(t, indexes, triggers):
            return [PlannedStatement(DDL.createTable(t), "create table \(t.name)")]
                + indexes.map { PlannedStatement(DDL.createIndex($0), "create index \($0.name)") }
                + triggers.map { PlannedStatement($0.sql, "create trigger \($0.name)") }

        case let .dropTable(t, _, _):
            // Its indexes and triggers go with it.
            return [PlannedStatement("DROP TABLE \(DDL.q(t.name))", "drop table \(t.name) with its indexes and triggers")]

        case let .renameTable(from, to) where SQL.sameName(from, to):
            // SQLite refuses a rename to a name that differs only in case
            // ("there is already another table ... with this name"): it goes
            // through a name of strata's own.
            let aside = "strata_rename_\(to)"
            return aroundViewsAndTriggers(before: before, after: after, [
                PlannedStatement("ALTER TABLE \(DDL.q(from)) RENAME TO \(DDL.q(aside))", "rename table \(from) to \(to): set it aside under \(aside)"),
                PlannedStatement("ALTER TABLE \(DDL.q(aside)) RENAME TO \(DDL.q(to))", "rename table \(from) to \(to)"),
            ])

        case let .renameTable(from, to):
            return aroundViewsAndTriggers(before: before, after: after,
                                          PlannedStatement("ALTER TABLE \(DDL.q(from)) RENAME TO \(DDL.q(to))", "rename table \(from) to \(to)"))

        case let .renameColumn(table, from, to):
            return aroundViewsAndTriggers(before: before, after: after,
                                          PlannedStatement("ALTER TABLE \(DDL.q(table)) RENAME COLUMN \(DDL.q(from)) TO \(DDL.q(to))",
                                                           "rename column \(table).\(from) to \(to)"))

        case let .addColumn(table, column, position):
            let t = before.table(table)!
            if position == t.columns.count && canAddInPlace(column) {
                return [PlannedStatement("ALTER TABLE \(DDL.q(table)) ADD COLUMN \(DDL.columnDefinition(column))", "add column \(table).\(column.name)")]
            }
            // A NOT NULL column without a default fits only an empty table (DataChecks' MF101).
            return rebuild(table: table, before: before, after: after)

        case let .dropColumn(table, column, _):
            // SQLite 3.35+ drops a column in place when nothing else refers to
            // it; the fold has already refused a column that something uses.
            let t = before.table(table)!
            if !t.constraints.withoutRowid && !t.constraints.strict {
                return aroundViewsAndTriggers(before: before, after: after,
                                              PlannedStatement("ALTER TABLE \(DDL.q(table)) DROP COLUMN \(DDL.q(column.name))",
                                                               "drop column \(table).\(column.name)"))
            }
            return rebuild(table: table, before: before, after: after)

        case let .alterColumn(table, _, _), let .alterConstraints(table, _, _), let .reorderColumns(table, _, _):
            return rebuild(table: table, before: before, after: after)

        case let .createIndex(i): return [PlannedStatement(DDL.createIndex(i), "create index \(i.name)")]
        case let .dropIndex(i): return [PlannedStatement("DROP INDEX \(DDL.q(i.name))", "drop index \(i.name)")]
        case let .createView(v): return [PlannedStatement(v.sql, "create view \(v.name)")]
        case let .dropView(v): return [PlannedStatement("DROP VIEW \(DDL.q(v.name))", "drop view \(v.name)")]
        case let .createTrigger(t): return [PlannedStatement(t.sql, "create trigger \(t.name)")]
        case let .dropTrigger(t): return [PlannedStatement("DROP TRIGGER \(DDL.q(t.name))", "drop trigger \(t.name)")]
        case let .createVirtualTable(v): return [PlannedStatement(v.sql, "create virtual table \(v.name)")]
        // The module drops its shadow tables with it.
        case let .dropVirtualTable(v): return [PlannedStatement("DROP TABLE \(DDL.q(v.name))", "drop virtual table \(v.name) with its shadow tables")]
        case let .alterVirtualTable(from, to): return alterVirtualTable(from: from, to: to)
        case let .exec(forward?, _):
            // One statement at a time, each confined to rows.
            return FragmentChecker.splitStatements(forward).map {
                var s = PlannedStatement($0, "data step")
                s.confinement = .data
                return s
            }
        // Nothing to run: the migrator refuses this step unless told to pass it.
        case .exec(nil, _): return []
        }
    }

    /// `ALTER TABLE ... RENAME` that leaves every other object's text as
    /// written and re-checks none of them (`legacy_alter_table`, for this
    /// one statement).
    static func legacyRename(_ from: String, to: String, label: String) -> [PlannedStatement] {
        [PlannedStatement("PRAGMA legacy_alter_table = ON", label),
         PlannedStatement("ALTER TABLE \(DDL.q(from)) RENAME TO \(DDL.q(to))", label),
         PlannedStatement("PRAGMA legacy_alter_table = OFF", label)]
    }

    /// SQLite cannot alter a virtual table: the old one is renamed aside, the
    /// new one created, the columns both have copied across (for the modules
    /// known to allow it: full-text search and R*Tree), and the old one
    /// dropped with its shadow tables. Legacy mode keeps the rename from
    /// rewriting views and triggers that name the table.
    static func alterVirtualTable(from: VirtualTable, to: VirtualTable) -> [PlannedStatement] {
        let family: (String?) -> String? = { m in
            guard let m else { return nil }
            return ["fts3", "fts4", "fts5"].contains(m) ? "fts" : m == "rtree" ? "rtree" : nil
        }
        let what = "alter virtual table \(to.name)"
        guard let kind = family(from.module), kind == family(to.module) else {
            return [PlannedStatement("DROP TABLE \(DDL.q(from.name))", "\(what): drop the old one (its module cannot keep rows)"),
                    PlannedStatement(to.sql, "\(what): create the new one")]
        }
        let aside = "_strata_old_\(to.name)"
        let common = to.columns.filter { c in from.columns.contains { SQL.sameName($0, c) } }
        // A full-text table's rows are identified by rowid; an R*Tree's id is a column.
        let targets = (kind == "fts" ? ["rowid"] : []) + common.map(DDL.q)
        var plan = legacyRename(from.name, to: aside, label: "\(what): set the old one aside")
            + [PlannedStatement(to.sql, "\(what): create the new one")]
        if !common.isEmpty {
            let list = targets.joined(separator: ", ")
            plan.append(PlannedStatement("INSERT INTO \(DDL.q(to.name)) (\(list)) SELECT \(list) FROM \(DDL.q(aside))", "\(what): copy rows"))
        }
        plan.append(PlannedStatement("DROP TABLE \(DDL.q(aside))", "\(what): drop the old one"))
        return plan
    }

    /// `ALTER TABLE ... ADD COLUMN` works only for a column SQLite can fill
    /// without looking at rows: not NOT NULL without a default, and a
    /// constant default (https://sqlite.org/lang_altertable.html#altertabaddcol).
    static func canAddInPlace(_ c: Column) -> Bool {
        // A STORED generated column only into an empty table; VIRTUAL is fine.
        if c.generated?.stored == true { return false }
        if c.notNull && (c.defaultValue == nil || c.defaultValue == "NULL") { return false }
        if let d = c.defaultValue, !isConstant(d) { return false }
        return true
    }

    /// Whether `ADD COLUMN` takes `expression` as a default on a table that
    /// holds rows: SQLite evaluates it once, so it must be a literal (signed,
    /// cast or in parentheses); a function call (`json_array()`), a
    /// CURRENT_TIME/DATE/TIMESTAMP or any other expression is refused with
    /// "Cannot add a column with non-constant default"
    /// (https://sqlite.org/lang_altertable.html#altertabaddcol). A bare
    /// name as the whole default (`DEFAULT abc`, `DEFAULT "x"`) is a string
    /// to SQLite's grammar; in parentheses it would name a column.
    static func isConstant(_ expression: String) -> Bool {
        guard var tokens = try? SQL.tokenize(expression) else { return false }
        if tokens.count == 1, tokens[0].kind == .quotedName { return true }
        if tokens.count == 1, tokens[0].kind == .word,
           !["CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"].contains(where: { tokens[0].isKeyword($0) }) { return true }
        while tokens.count >= 2, tokens.first?.text == "(", tokens.last?.text == ")",
              SQL.matchingParen(tokens, from: 0) == tokens.count - 1 {
            tokens = Array(tokens.dropFirst().dropLast())
        }
        if tokens.count >= 6, tokens[0].isKeyword("CAST"), tokens[1].text == "(", tokens.last?.text == ")",
           let asIndex = tokens.firstIndex(where: { $0.isKeyword("AS") }) {
            return isConstant(SQL.join(tokens[2..<asIndex]))
        }
        while let first = tokens.first, first.kind == .punct, first.text == "-" || first.text == "+" { tokens.removeFirst() }
        guard tokens.count == 1 else { return false }
        switch tokens[0].kind {
        case .number, .string, .blob: return true
        case .word: return ["NULL", "TRUE", "FALSE"].contains { tokens[0].isKeyword($0) }
        case .quotedName, .variable, .punct: return false
        }
    }

    /// Since 3.26, `RENAME` and `DROP COLUMN` re-check every view and trigger
    /// of the schema and fail if any of them does not resolve, even one that
    /// has nothing to do with the table. They are dropped around the
    /// statement and recreated as the state after the op says they are.
    static func aroundViewsAndTriggers(before: Schema, after: Schema, _ statement: PlannedStatement) -> [PlannedStatement] {
        aroundViewsAndTriggers(before: before, after: after, [statement])
    }

    static func aroundViewsAndTriggers(before: Schema, after: Schema, _ statements: [PlannedStatement]) -> [PlannedStatement] {
        var plan: [PlannedStatement] = []
        for t in before.triggersByName {
            plan.append(PlannedStatement("DROP TRIGGER \(DDL.q(t.name))", "set trigger \(t.name) aside (SQLite re-checks every trigger)"))
        }
        for v in before.viewsInDependencyOrder.reversed() {
            plan.append(PlannedStatement("DROP VIEW \(DDL.q(v.name))", "set view \(v.name) aside (SQLite re-checks every view)"))
        }
        plan += statements
        for v in after.viewsInDependencyOrder { plan.append(PlannedStatement(v.sql, "recreate view \(v.name)")) }
        for t in after.triggersByName { plan.append(PlannedStatement(t.sql, "recreate trigger \(t.name)")) }
        return plan
    }

    /// The value a rebuild copies from column `was` into column `c`: a NOT
    /// NULL with a default that `was` lacked replaces its NULLs.
    static func copy(_ was: Column, into c: Column) -> String {
        if c.notNull && !was.notNull, let d = c.defaultValue, d != "NULL" { return "coalesce(\(DDL.q(was.name)), \(d))" }
        return DDL.q(was.name)
    }

    /// The twelve steps of https://sqlite.org/lang_altertable.html#otheralter.
    /// Steps 1-2 (foreign keys off, outside the transaction; begin) and 10-12
    /// (`PRAGMA foreign_key_check`, commit, foreign keys back) are the
    /// applier's, because they wrap the whole run.
    /// `fill` gives a new column's value as an expression over the old
    /// table's row (lowercased column name -> SQL).
    /// `sources`, when given, says exactly which columns are copied and from
    /// what (a compacted run's renames and drops: no match by name).
    static func rebuild(table name: String, before: Schema, after: Schema, fill: [String: String] = [:],
                        sources: [String: String]? = nil, label: String? = nil) -> [PlannedStatement] {
        let old = before.table(name)!
        let new = after.table(name)!
        let temp = "_strata_new_\(new.name)"
        let what = label ?? "rebuild \(new.name)"
        var plan: [PlannedStatement] = []
        // 3. The indexes and triggers of X are in `after`. Views that read X
        //    and other tables' triggers that name it are dropped here and
        //    recreated in step 9.
        let dependents = before.dependents(ofTable: name)
        for t in dependents.triggers { plan.append(PlannedStatement("DROP TRIGGER \(DDL.q(t.name))", "\(what): drop trigger \(t.name) that reads it")) }
        for v in dependents.views.reversed() { plan.append(PlannedStatement("DROP VIEW \(DDL.q(v.name))", "\(what): drop view \(v.name) that reads it")) }
        // 4. "CREATE TABLE new_X (...)" in the desired revised format.
        plan.append(PlannedStatement(DDL.createTable(new, as: temp), "\(what): create the new table"))
        // 5. "INSERT INTO new_X SELECT ... FROM X": columns that exist on both
        //    sides are copied; a new column takes its default.
        let copied = sources
        var targets: [String] = []
        var values: [String] = []
        //    A table whose rowid is not a column keeps its rowids too, so
        //    that a row is the same row after the rebuild.
        if !old.constraints.withoutRowid && !new.constraints.withoutRowid && !Trash.isRowidAlias(old) && !Trash.isRowidAlias(new) {
            targets.append("rowid")
            values.append("rowid")
        }
        for c in new.columns where c.generated == nil {
            if let value = fill[SQL.nameKey(c.name)] ?? copied?[SQL.nameKey(c.name)] {
                targets.append(DDL.q(c.name))
                values.append(value)
                continue
            }
            guard copied == nil, let was = old.column(c.name) else { continue }
            targets.append(DDL.q(c.name))
            values.append(copy(was, into: c))
        }
        if targets.contains(where: { $0 != "rowid" }) {
            plan.append(PlannedStatement("INSERT INTO \(DDL.q(temp)) (\(targets.joined(separator: ", "))) SELECT \(values.joined(separator: ", ")) FROM \(DDL.q(old.name))",
                                         "\(what): copy rows"))
        }
        //    AUTOINCREMENT's high-water mark lives in sqlite_sequence; the
        //    copy only sets it to the largest surviving id, so carry it over.
        if old.constraints.autoincrement && new.constraints.autoincrement {
            let counter = "\(what): carry the AUTOINCREMENT counter over"
            plan.append(PlannedStatement("DELETE FROM sqlite_sequence WHERE name = \(SQL.literal(temp))", counter))
            plan.append(PlannedStatement("INSERT INTO sqlite_sequence (name, seq) SELECT \(SQL.literal(temp)), seq FROM sqlite_sequence WHERE name = \(SQL.literal(old.name))", counter))
        }
        // 6. "DROP TABLE X" (its indexes and triggers go with it).
        plan.append(PlannedStatement("DROP TABLE \(DDL.q(old.name))", "\(what): drop the old table"))
        // 7. "ALTER TABLE new_X RENAME TO X". Legacy mode leaves other
        //    tables' REFERENCES X exactly as written (they name X, which
        //    exists again) and does not re-check every view of the schema, so
        //    a broken view elsewhere cannot block the rebuild.
        plan += legacyRename(temp, to: new.name, label: "\(what): rename the new table into place")
        // 8. Recreate the indexes and triggers of X.
        for i in after.indexes(on: new.name) { plan.append(PlannedStatement(DDL.createIndex(i), "\(what): recreate index \(i.name)")) }
        for t in after.triggers(on: new.name) { plan.append(PlannedStatement(t.sql, "\(what): recreate trigger \(t.name)")) }
        // 9. Recreate the views and other triggers that read X, as `after` has them.
        for v in dependents.views {
            if let v = after.views[SQLName(v.name)] { plan.append(PlannedStatement(v.sql, "\(what): recreate view \(v.name)")) }
        }
        for t in dependents.triggers {
            if let t = after.triggers[SQLName(t.name)] { plan.append(PlannedStatement(t.sql, "\(what): recreate trigger \(t.name)")) }
        }
        return plan
    }
}
