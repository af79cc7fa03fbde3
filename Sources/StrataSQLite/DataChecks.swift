import StrataCore

/// A change that fails on some databases' rows: the query that counts the
/// rows in the way, and what to say about them (`{rows}` is the count).
/// The planner makes each a guard, checked inside the migration's
/// transaction right before its op runs (after the data steps before it);
/// `lint` counts them on each database.
package struct DataCheck: Hashable, Sendable {
    package let code: String
    package let count: String
    package let message: String

    /// The check's message with the count in it: `{rows}` is "1 row" or
    /// "N rows", `{values}` "1 value" or "N values".
    package func describe(_ n: Int64) -> String {
        message.replacingOccurrences(of: "{rows}", with: "\(n) row\(n == 1 ? "" : "s")")
            .replacingOccurrences(of: "{values}", with: "\(n) value\(n == 1 ? "" : "s")")
    }
}

package enum DataChecks {
    /// The checks `op` needs on a database whose schema is `before`.
    package static func checks(for op: Op, in before: Schema) -> [DataCheck] {
        switch op {
        case let .alterColumn(table, from, to) where to.notNull && !from.notNull && (to.defaultValue == nil || to.defaultValue == "NULL") && to.generated == nil:
            return [DataCheck(code: "MF101", count: "SELECT count(*) FROM \(DDL.q(table)) WHERE \(DDL.q(from.name)) IS NULL",
                              message: "\(table).\(from.name) is NULL in {rows}, and it becomes NOT NULL without a default: "
                                + "fill them first (a data step: UPDATE \(table) SET \(from.name) = ... WHERE \(from.name) IS NULL), or give the column a default")]
        case let .addColumn(table, c, _) where c.notNull && (c.defaultValue == nil || c.defaultValue == "NULL") && c.generated == nil:
            return [DataCheck(code: "MF101", count: "SELECT count(*) FROM \(DDL.q(table))",
                              message: "\(table) has {rows}, and the new column \(c.name) is NOT NULL without a default: give it a default, or add it nullable and fill it")]
        case let .createIndex(i) where i.unique:
            return [unique(table: i.table, terms: i.terms, predicate: i.predicate, what: "unique index \(i.name)")]
        case let .alterConstraints(table, from, to):
            var checks: [DataCheck] = []
            for u in to.uniques where !from.uniques.contains(u) {
                checks.append(unique(table: table, terms: u.map(DDL.q), predicate: nil, what: "UNIQUE (\(u.joined(separator: ", ")))"))
            }
            for fk in to.foreignKeys where !from.foreignKeys.contains(fk) {
                guard let parent = before.table(fk.referencedTable) ?? (SQL.sameName(fk.referencedTable, table) ? before.table(table) : nil) else { continue }
                let keys = fk.referencedColumns.isEmpty ? parent.constraints.primaryKey : fk.referencedColumns
                // A key the parent does not have yet (a later statement of
                // the run adds it) cannot be checked here: SQLite does not
                // check such a key either, and the run's closing
                // `PRAGMA foreign_key_check` sees the finished tables.
                guard keys.count == fk.columns.count, !keys.isEmpty, keys.allSatisfy({ parent.column($0) != nil }) else { continue }
                let present = fk.columns.map { "c.\(DDL.q($0)) IS NOT NULL" }.joined(separator: " AND ")
                let match = zip(fk.columns, keys).map { "p.\(DDL.q($1)) = c.\(DDL.q($0))" }.joined(separator: " AND ")
                checks.append(DataCheck(code: "MF103", count: "SELECT count(*) FROM \(DDL.q(table)) AS c WHERE \(present) "
                    + "AND NOT EXISTS (SELECT 1 FROM \(DDL.q(parent.name)) AS p WHERE \(match))",
                    message: "\(table) has {rows} whose \(fk.columns.joined(separator: ", ")) \(parent.name) does not hold, so the new foreign key "
                        + "would refuse them: delete or fix those rows first (a data step), or add the missing \(parent.name) rows"))
            }
            for check in to.checks where !from.checks.contains(check) {
                checks.append(DataCheck(code: "MF104", count: "SELECT count(*) FROM \(DDL.q(table)) WHERE NOT (\(check.expression))",
                                        message: "the new CHECK (\(check.expression)) fails for {rows} of \(table): fix them first (a data step), or change the check"))
            }
            return checks
        default:
            return []
        }
    }

    /// Groups of rows that would collide in a new unique index (NULLs never collide).
    static func unique(table: String, terms: [String], predicate: String?, what: String) -> DataCheck {
        let exprs = terms.map { t -> String in
            for suffix in [" DESC", " ASC"] where t.uppercased().hasSuffix(suffix) { return String(t.dropLast(suffix.count)) }
            return t
        }
        let notNull = exprs.map { "(\($0)) IS NOT NULL" } + (predicate.map { ["(\($0))"] } ?? [])
        return DataCheck(code: "MF102", count: "SELECT count(*) FROM (SELECT 1 FROM \(DDL.q(table)) WHERE \(notNull.joined(separator: " AND ")) "
            + "GROUP BY \(exprs.joined(separator: ", ")) HAVING count(*) > 1)",
            message: "\(table) holds {values} of (\(exprs.joined(separator: ", "))) in more than one row, so \(what) cannot be built: "
                + "remove the duplicates first (a data step), or drop the uniqueness")
    }
}

/// One data check that counted rows in a dry run.
package struct CountedCheck: Sendable, Equatable {
    package let event: String
    package let op: Int?
    package let check: DataCheck
    package let rows: Int64
}

extension TargetDatabase {
    /// Runs `plan` inside a transaction that is always rolled back, counting
    /// each data check right where the real run would check it (after the
    /// statements before it). Returns the checks that count rows, and the
    /// error that stopped the run, if one did. Nothing changes.
    package func dryRun(_ plan: MigrationPlan) throws -> (failed: [CountedCheck], errors: [String]) {
        let foreignKeysWereOn = try connection.scalar("PRAGMA foreign_keys")?.int == 1
        try connection.execute("PRAGMA foreign_keys = OFF")
        defer {
            if foreignKeysWereOn { try? connection.execute("PRAGMA foreign_keys = ON") }
            try? connection.execute("PRAGMA legacy_alter_table = OFF")
        }
        try connection.execute("BEGIN")
        defer { if connection.isInTransaction { try? connection.execute("ROLLBACK") } }
        var failed: [CountedCheck] = []
        var errors: [String] = []
        // An op that would fail is left out (the real run stops there) so
        // that the ops after it are still counted.
        var skipping: (event: String?, op: Int?)?
        for item in plan.items {
            if let s = skipping, s.event == item.event, s.op == item.op, item.op != nil { continue }
            skipping = nil
            for check in item.statement.checks {
                do {
                    if let n = try connection.confined(.read, { try connection.scalar(check.count)?.int }), n > 0 {
                        failed.append(CountedCheck(event: item.event ?? "", op: item.op, check: check, rows: n))
                        skipping = (item.event, item.op)
                    }
                } catch let e as SQLiteError {
                    // A check that cannot run reads what an op left out before it made.
                    if failed.isEmpty { errors.append("\(e.message) (in the check `\(check.count.prefix(80))`)") }
                    skipping = (item.event, item.op)
                }
            }
            if skipping != nil { continue }
            try connection.execute("SAVEPOINT strata_dry")
            do {
                try connection.confined(item.statement.confinement) { try connection.executeOne(item.statement.sql) }
                try connection.execute("RELEASE strata_dry")
            } catch let e as SQLiteError {
                try connection.execute("ROLLBACK TO strata_dry")
                try connection.execute("RELEASE strata_dry")
                // After an op left out, a failure may only follow from it: not worth reporting.
                if failed.isEmpty { errors.append("\(e.message) (in `\(item.statement.sql.prefix(80))`)") }
                skipping = (item.event, item.op)
            }
        }
        return (failed, errors)
    }
}
