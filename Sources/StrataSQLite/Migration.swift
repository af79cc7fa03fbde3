import StrataCore

package struct MigrationStep: Sendable {
    package let event: Event
    package let direction: Direction

    package init(_ event: Event, _ direction: Direction) {
        self.event = event
        self.direction = direction
    }

    /// The ops this step runs: the event's, or their inverses, newest first.
    package var ops: [Op] { direction == .up ? event.ops : event.ops.inverted }
}

/// Who runs a migration, recorded in the database's applied-history.
package struct MigrationContext: Sendable {
    package var appliedBy: String
    package var node: String
    package var now: Int64
    /// Go past a data step that has no reverse SQL (its rows stay as they are).
    package var allowIrreversible = false
    /// Keep what destructive ops remove (`strata_trash`), so that their
    /// inverses bring it back.
    package var keepDroppedData = true
    /// An SQL literal for the rows of a restored NOT NULL column that have
    /// no kept value.
    package var fill: String?
    /// Plan less work than the history on the way up (see `Compactor`);
    /// off, each event's SQL runs as `show` prints it.
    package var compact = true
    /// The stashes of downgrades the database holds (`TrashSlots`): an
    /// upgrade past their events brings their data back.
    package var keptByDowngrades: Set<String> = []

    package init(appliedBy: String, node: String, now: Int64, allowIrreversible: Bool = false) {
        self.appliedBy = appliedBy
        self.node = node
        self.now = now
        self.allowIrreversible = allowIrreversible
    }
}

/// The whole of one `upgrade` or `downgrade`: every statement, schema and
/// bookkeeping alike, so that `--sql` prints exactly what a run executes.
package struct MigrationPlan: Sendable {
    package struct Item: Sendable {
        package let event: String?
        package let statement: PlannedStatement
        /// The way this item's event is applied, and its message (for output).
        package var direction: Direction = .up
        package var message: String = ""
        /// The op of the step it belongs to (nil for bookkeeping).
        package var op: Int? = nil
        /// The last statement of its event (the history row): past it, the
        /// event is done (inside the run's transaction).
        package var completesEvent = false
    }

    package let fromRevision: String?
    package let toRevision: String?
    package let direction: Direction
    package let items: [Item]
    /// The schema the plan starts from: what the database must hold (drift
    /// is checked against it inside the migration's transaction).
    package let startState: Schema
    package let finalState: Schema

    /// The events the plan applies, once each, in the order the run records
    /// them: a compacted plan interleaves the statements of several events,
    /// its bookkeeping still writes one row an event, in the history's order.
    package var events: [Item] {
        var seen = Set<String>()
        let bookkeeping = items.filter { $0.op == nil && $0.event != nil }
        return (bookkeeping.isEmpty ? items : bookkeeping + items).filter { item in
            guard let e = item.event else { return false }
            return seen.insert(e).inserted
        }
    }

    /// The plan as a script for the sqlite3 shell (or a DBA's review).
    package var script: String {
        var out = "-- strata: \(fromRevision ?? "base") -> \(toRevision ?? "base")\n"
        out += "PRAGMA foreign_keys = OFF;\nBEGIN IMMEDIATE;\n"
        var group: [PlannedStatement] = []
        var currentEvent: String?
        for item in items {
            if item.event != currentEvent, let e = item.event {
                out += PlannedStatement.script(group)
                group = []
                out += "\n-- event \(e)\n"
                currentEvent = e
            }
            group.append(item.statement)
        }
        out += PlannedStatement.script(group)
        out += "PRAGMA foreign_key_check;\nCOMMIT;\n"
        return out
    }
}

/// Bookkeeping tables that every target database carries.
package enum Bookkeeping {
    package static let createTables = [
        """
        CREATE TABLE IF NOT EXISTS strata_version (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            revision TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS strata_history (
            seq INTEGER PRIMARY KEY,
            revision TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('up', 'down', 'stamp')),
            applied_at TEXT NOT NULL,
            applied_by TEXT NOT NULL,
            node TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS strata_events (
            id TEXT PRIMARY KEY,
            body TEXT NOT NULL,
            inverse TEXT NOT NULL
        )
        """,
        Trash.table,
    ]

    /// The revision value stored for "no revision".
    package static let base = "base"

    static func recordEvent(_ e: Event) -> String {
        let inverse = JSON.array(e.ops.inverted.map(\.json)).canonicalString
        return "INSERT OR IGNORE INTO strata_events (id, body, inverse) VALUES (\(SQL.literal(e.id)), \(SQL.literal(e.body.canonicalString)), \(SQL.literal(inverse)))"
    }

    static func recordHistory(revision: String, direction: String, context: MigrationContext) -> String {
        "INSERT INTO strata_history (revision, direction, applied_at, applied_by, node) VALUES (\(SQL.literal(revision)), \(SQL.literal(direction)), \(SQL.literal(Timestamp.iso8601(context.now))), \(SQL.literal(context.appliedBy)), \(SQL.literal(context.node)))"
    }

    static func setVersion(_ revision: String?, context: MigrationContext) -> String {
        "INSERT INTO strata_version (id, revision, updated_at) VALUES (1, \(SQL.literal(revision ?? base)), \(SQL.literal(Timestamp.iso8601(context.now)))) ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, updated_at = excluded.updated_at"
    }
}

package enum Migrator {
    /// Plans steps from `start` (the state at `from`) to `to`.
    package static func plan(start: Schema, from: String?, to: String?, steps: [MigrationStep],
                            context: MigrationContext) throws -> MigrationPlan {
        // The log was checked on the way in; a log or a database copy made
        // before that check, or edited since, is checked again here.
        let fragments = try FragmentChecker()
        for step in steps { try fragments.check(step.event) }
        var items = Bookkeeping.createTables.map {
            MigrationPlan.Item(event: nil, statement: PlannedStatement($0, "strata's own tables, if missing"))
        }
        var state = start
        var compactor = context.compact ? Compactor() : nil
        let messages = Dictionary(steps.map { ($0.event.id, $0.event.message) }, uniquingKeysWith: { a, _ in a })
        for (n, step) in steps.enumerated() {
            let e = step.event
            let ops = step.ops
            for (index, op) in ops.enumerated() {
                if case .exec(nil, _) = op, !context.allowIrreversible { throw MigrationError.irreversible(e.id, e.message) }
                var statements: [PlannedStatement]
                let slots = TrashSlots(event: e.id, direction: step.direction, op: index, of: ops.count,
                                       keep: context.keepDroppedData && !e.purgeDropped, fill: context.fill, now: context.now,
                                       keptByDowngrades: context.keptByDowngrades)
                do {
                    let after = try state.applying(op)
                    var outcome = Compactor.Outcome.plain(flush: [])
                    if step.direction == .up && slots.restore == nil {
                        outcome = compactor?.step(op, before: state, after: after, slots: slots) ?? outcome
                    } else if compactor != nil {
                        // A restore reads the table as the history has it so far.
                        outcome = .plain(flush: compactor!.flushAll(in: state))
                    }
                    switch outcome {
                    case .absorbed(let own): statements = own
                    case .plain(let flush): statements = flush + (try Planner.statements(for: op, in: state, trash: slots))
                    }
                    state = after
                } catch let error as SchemaError {
                    throw MigrationError.event(e.id, step.direction, "\(op.summary): \(error.message)", sql: nil)
                }
                items += statements.map {
                    MigrationPlan.Item(event: $0.originEvent ?? e.id, statement: $0, direction: step.direction,
                                       message: $0.originEvent.flatMap { messages[$0] } ?? e.message, op: $0.originOp ?? index)
                }
            }
            if n == steps.count - 1, let rest = compactor?.flushAll(in: state) {
                // What is still pending is written out with the last event, each table as the op it last absorbed.
                items += rest.map {
                    MigrationPlan.Item(event: $0.originEvent ?? e.id, statement: $0, direction: step.direction,
                                       message: $0.originEvent.flatMap { messages[$0] } ?? e.message, op: $0.originOp)
                }
            }
            items.append(.init(event: e.id, statement: PlannedStatement(Bookkeeping.recordEvent(e), "keep a copy of the event"),
                               direction: step.direction, message: e.message))
            items.append(.init(event: e.id, statement: PlannedStatement(
                Bookkeeping.recordHistory(revision: e.id, direction: step.direction.rawValue, context: context), "record it in the history"),
                direction: step.direction, message: e.message, completesEvent: true))
        }
        items.append(.init(event: nil, statement: PlannedStatement(Bookkeeping.setVersion(to, context: context), "set the database's revision")))
        return MigrationPlan(fromRevision: from, toRevision: to, direction: steps.first?.direction ?? .up,
                             items: items, startState: start, finalState: state)
    }
}

package enum MigrationError: Error, CustomStringConvertible, Sendable {
    /// An event failed: which one, which way, why, and the statement if one ran.
    case event(String, Direction, String, sql: String?)
    case locked(String)
    case moved(expected: String?, found: String?)
    case foreignKeyViolations([String])
    /// The file is not an SQLite database (SQLite's own words).
    case notADatabase(String, String)
    /// The file cannot be written.
    case readOnly(String)
    /// The real schema differs from the state at the recorded revision.
    case drifted(String, revision: String?, changes: [String])
    /// A revision that neither the log nor the database's copies hold.
    case unknownRevision(String, String)
    /// The way passes a data step recorded without reverse SQL.
    case irreversible(String, String)
    /// A way back restores a NOT NULL column without a default for rows of
    /// which nothing was kept, and no fill value was given.
    case unfilled(String, Direction, UnfilledColumn, rows: Int)

    /// The words of `.unfilled`, with what the caller can do (`remedy`).
    package static func unfilledText(_ id: String, _ direction: Direction, _ c: UnfilledColumn, rows: Int, remedy: String) -> String {
        "\(direction == .up ? "upgrade" : "downgrade") failed at event \(id.prefix(12)): column \(c.table).\(c.column) is NOT NULL without a default, "
            + "and nothing was kept of it for \(rows) row\(rows == 1 ? "" : "s") of \(c.table) (rows inserted after it was dropped, or its data was not kept); "
            + "\(remedy), or delete those rows first\nthe database was left exactly as it was"
    }

    package var description: String {
        switch self {
        case let .event(id, direction, message, sql):
            var s = "\(direction == .up ? "upgrade" : "downgrade") failed at event \(id.prefix(12)): \(message)"
            if let sql { s += "\n  statement: \(sql)" }
            return s + "\nthe database was left exactly as it was"
        case let .locked(path):
            return "database \(path) is locked by another process (another migration?); wait for it to finish and run the command again"
        case let .moved(expected, found):
            return "the database moved from \(expected ?? "base") to \(found ?? "base") while this command was planning (another migration ran); run the command again"
        case let .foreignKeyViolations(rows):
            return "the migration would leave rows that break foreign keys, so nothing was changed:\n  " + rows.joined(separator: "\n  ")
        case let .notADatabase(path, detail):
            return "\(path) is not an SQLite database (\(detail))"
        case let .readOnly(path):
            return "database \(path) cannot be written (read-only file or directory); fix its permissions and run the command again"
        case let .drifted(path, revision, changes):
            return "database \(path) has drifted from its recorded revision \(revision.map { String($0.prefix(12)) } ?? "base") (\(changes.joined(separator: "; "))), "
                + "so nothing was run"
        case let .unknownRevision(path, id):
            return "database \(path) is at revision \(id.prefix(12)), which neither the history nor the database's own records hold"
        case let .unfilled(id, direction, column, rows):
            return MigrationError.unfilledText(id, direction, column, rows: rows, remedy: "give them a value to fill with")
        case let .irreversible(id, message):
            return "the way back passes event \(id.prefix(12)) (\(message)), a data step recorded without reverse SQL, so its rows cannot be put back; "
                + "nothing was run"
        }
    }
}

extension MigrationError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String {
        switch self {
        case .event: return "migration.failed"
        case .locked: return "migration.locked"
        case .moved: return "migration.moved"
        case .foreignKeyViolations: return "migration.foreign_keys"
        case .notADatabase: return "database.not_sqlite"
        case .readOnly: return "database.read_only"
        case .drifted: return "database.drifted"
        case .unknownRevision: return "database.unknown_revision"
        case .irreversible: return "migration.irreversible"
        case .unfilled: return "migration.unfilled"
        }
    }
}
