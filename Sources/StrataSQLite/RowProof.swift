import StrataCore

/// The proof with rows: what fails only on a table that holds rows (an
/// `ADD COLUMN` whose default is not constant, a rebuild's copy) cannot be
/// seen on empty tables, where the proof before append runs first.
extension TargetDatabase {
    /// Puts one row into each ordinary table of `schema`, when one that its
    /// constraints take is easily made: every stored column gets a value of
    /// `1`, so that a foreign key to an integer or text key of another table
    /// finds its parent; a row a CHECK or UNIQUE refuses is left out
    /// (`INSERT OR IGNORE`).
    package func insertSampleRows(_ schema: Schema) throws {
        for t in Schema.byName(schema.tables.values) {
            let stored = t.columns.filter { $0.generated == nil }
            guard !stored.isEmpty else { continue }
            // `1` converts to every affinity (and into an INTEGER PRIMARY KEY
            // a rebuild may copy it to); a STRICT table takes its own types.
            let values = stored.map { c -> String in
                guard t.constraints.strict else { return "1" }
                switch c.type.uppercased() {
                case "TEXT": return "'1'"
                case "REAL": return "1.0"
                case "BLOB": return "x'01'"
                default: return "1"
                }
            }
            try connection.execute("INSERT OR IGNORE INTO \(DDL.q(t.name)) (\(stored.map { DDL.q($0.name) }.joined(separator: ", "))) "
                + "VALUES (\(values.joined(separator: ", ")))")
        }
    }

    /// Dry-runs `plans` one after the other (one transaction, rolled back)
    /// on this database, which holds sample rows. Returns the first error of
    /// a statement when no data check foresaw a failure; nil when all ran,
    /// or when a data check counted rows (the plan then depends on the data,
    /// which the checks already say).
    package func errorWithRows(running plans: [MigrationPlan]) throws -> String? {
        guard let first = plans.first, let last = plans.last else { return nil }
        let combined = MigrationPlan(fromRevision: first.fromRevision, toRevision: last.toRevision, direction: first.direction,
                                     items: plans.flatMap(\.items), startState: first.startState, finalState: last.finalState)
        let (failed, errors) = try dryRun(combined)
        return failed.isEmpty ? errors.first : nil
    }
}
