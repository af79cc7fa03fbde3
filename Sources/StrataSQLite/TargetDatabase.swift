import CSQLite
import StrataCore

/// A SQLite file that strata migrates, with its `strata_*` bookkeeping.
package final class TargetDatabase {
    package let connection: Connection
    package let path: String

    /// Opens an existing database, or creates one when `create` is set.
    /// Locks are refused at once unless `waitSeconds` says how long to wait.
    package init(path: String, create: Bool = true, readOnly: Bool = false, waitSeconds: Double = 0) throws {
        self.path = path
        connection = try Connection(path: path, readOnly: readOnly, create: create)
        connection.setBusyTimeout(milliseconds: Int32(min(waitSeconds * 1000, Double(Int32.max))))
    }

    /// A database on a connection the caller opened (and keeps).
    package init(connection: Connection) {
        self.connection = connection
        path = connection.path.isEmpty ? ":memory:" : connection.path
    }

    /// Whether strata's tables are here. The first read of the file: one
    /// that is not a database fails here, and says so.
    var hasBookkeeping: Bool {
        get throws {
            do {
                return try connection.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'strata_version'")?.int == 1
            } catch let e as SQLiteError where e.code & 0xFF == SQLITE_NOTADB {
                throw MigrationError.notADatabase(path, e.message)
            } catch let e as SQLiteError where e.isBusy {
                throw MigrationError.locked(path)
            }
        }
    }

    /// Whether the copies of applied events are here (a database stamped by
    /// hand may have `strata_version` alone).
    var hasEventCopies: Bool {
        get throws { try connection.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'strata_events'")?.int == 1 }
    }

    // MARK: - Reading

    /// The revision the database is at; nil for base.
    package func currentRevision() throws -> String? {
        guard try hasBookkeeping else { return nil }
        guard let rev = try connection.scalar("SELECT revision FROM strata_version WHERE id = 1")?.string,
              rev != Bookkeeping.base else { return nil }
        return rev
    }

    /// The copies of every event ever applied here.
    package func storedEvents() throws -> [Event] {
        guard try hasBookkeeping, try hasEventCopies else { return [] }
        return try connection.query("SELECT body FROM strata_events").map { row in
            try Event(canonical: row[0].bytes ?? [])
        }
    }

    /// The copy of one event applied here, if the database has it.
    package func storedEvent(_ id: String) throws -> Event? {
        guard try hasBookkeeping, try hasEventCopies, let body = try connection.scalar("SELECT body FROM strata_events WHERE id = ?", [.text(id)])?.bytes else { return nil }
        return try Event(canonical: body)
    }

    /// Ids of stored copies that start with `prefix`.
    package func storedEventIDs(withPrefix prefix: String) throws -> [String] {
        guard try hasBookkeeping, try hasEventCopies else { return [] }
        return try connection.query("SELECT id FROM strata_events WHERE id >= ? AND id < ? LIMIT 5", [.text(prefix), .text(prefix + "g")]).compactMap { $0[0].string }
    }

    package struct HistoryRow: Sendable {
        package let revision: String
        package let direction: String
        package let appliedAt: String
        package let appliedBy: String
        package let node: String
    }

    package func appliedHistory() throws -> [HistoryRow] {
        guard try hasBookkeeping else { return [] }
        return try connection.query("SELECT revision, direction, applied_at, applied_by, node FROM strata_history ORDER BY seq").map {
            HistoryRow(revision: $0[0].string ?? "", direction: $0[1].string ?? "", appliedAt: $0[2].string ?? "",
                       appliedBy: $0[3].string ?? "", node: $0[4].string ?? "")
        }
    }

    /// The newest row of the applied history, if any.
    package func lastApplied() throws -> HistoryRow? {
        guard try hasBookkeeping else { return nil }
        return try connection.query("SELECT revision, direction, applied_at, applied_by, node FROM strata_history ORDER BY seq DESC LIMIT 1").first.map {
            HistoryRow(revision: $0[0].string ?? "", direction: $0[1].string ?? "", appliedAt: $0[2].string ?? "",
                       appliedBy: $0[3].string ?? "", node: $0[4].string ?? "")
        }
    }

    /// The real schema, strata's own tables left out.
    package func schema() throws -> Schema { try Inspector(connection).schema() }

    // MARK: - Writing

    /// Runs a plan in one transaction: it reaches the plan's target or leaves
    /// the database exactly as it was (schema, rows, recorded revision).
    /// With `checkingDrift`, the real schema must be the plan's start state,
    /// checked inside the transaction so that no writer can change it between
    /// the check and the change.
    @discardableResult
    package func apply(_ plan: MigrationPlan, checkingDrift: Bool = false, eventDone: ((String) -> Void)? = nil) throws -> TrashReport {
        var report = TrashReport()
        let foreignKeysWereOn = try connection.scalar("PRAGMA foreign_keys")?.int == 1
        // Step 1 of SQLite's rebuild procedure: inside a transaction this
        // PRAGMA is silently ignored, and cascades would delete rows.
        try connection.execute("PRAGMA foreign_keys = OFF")
        defer {
            if foreignKeysWereOn { try? connection.execute("PRAGMA foreign_keys = ON") }
            try? connection.execute("PRAGMA legacy_alter_table = OFF")
        }
        do {
            try connection.execute("BEGIN IMMEDIATE")
        } catch let e as SQLiteError where e.isBusy {
            throw MigrationError.locked(path)
        } catch let e as SQLiteError where e.code & 0xFF == SQLITE_READONLY {
            throw MigrationError.readOnly(path)
        }
        do {
            let found = try currentRevision()
            guard found == plan.fromRevision else { throw MigrationError.moved(expected: plan.fromRevision, found: found) }
            if checkingDrift {
                let changes = plan.startState.differences(to: try schema())
                if !changes.isEmpty { throw MigrationError.drifted(path, revision: found, changes: changes) }
            }
            for item in plan.items {
                let s = item.statement
                for check in s.checks {
                    if let n = try confined(item, .read, { try connection.scalar(check.count)?.int }), n > 0 {
                        throw MigrationError.event(item.event ?? "", plan.direction, "\(check.code): \(check.describe(n))", sql: nil)
                    }
                }
                if let count = s.guardCount, let n = try confined(item, .read, { try connection.scalar(count)?.int }), n > 0 {
                    let column = s.guardUnfilled ?? UnfilledColumn(table: "?", column: "?")
                    throw MigrationError.unfilled(item.event ?? "", plan.direction, column, rows: Int(n))
                }
                // A way down expects what the way up kept; a way up finds something only after an earlier way down.
                if case let .restores(stash, what)? = s.trash, item.direction == .down,
                   try connection.scalar("SELECT count(*) FROM sqlite_master WHERE name = ?", [.text(stash)])?.int == 0 {
                    report.notKept.append(what)
                }
                do {
                    try confined(item, s.confinement) { try connection.executeOne(s.sql) }
                } catch let e as SQLiteError {
                    if e.isBusy { throw MigrationError.locked(path) }
                    if e.code & 0xFF == SQLITE_READONLY { throw MigrationError.readOnly(path) }
                    throw MigrationError.event(item.event ?? "(bookkeeping)", plan.direction, e.message, sql: s.sql)
                }
                if item.completesEvent, let event = item.event { eventDone?(event) }
            }
            let violations = try connection.query("PRAGMA foreign_key_check").map { row in
                "table \(row[0].string ?? "?") row \(row[1].string ?? "?") references missing \(row[2].string ?? "?")"
            }
            guard violations.isEmpty else { throw MigrationError.foreignKeyViolations(violations) }
            for item in plan.items {
                guard case let .keeps(stash, what)? = item.statement.trash,
                      let rows = try connection.scalar("SELECT rows FROM strata_trash WHERE stash = ?", [.text(stash)])?.int, rows > 0 else { continue }
                report.kept.append(TrashReport.Kept(what: what, rows: Int(rows), event: item.event ?? ""))
            }
            try connection.execute("COMMIT")
        } catch {
            if connection.isInTransaction { try? connection.execute("ROLLBACK") }
            throw error
        }
        return report
    }

    /// The stashes downgrades filled (`TrashSlots`), which an upgrade past
    /// their events restores.
    package func stashesOfDowngrades() throws -> Set<String> {
        guard try connection.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'strata_trash'") != nil else { return [] }
        return Set(try connection.query("SELECT stash FROM strata_trash WHERE direction = 'down'").compactMap { $0[0].string })
    }

    /// Runs `body` under `policy`; a refusal fails the item's event.
    func confined<T>(_ item: MigrationPlan.Item, _ policy: Confinement, _ body: () throws -> T) throws -> T {
        do { return try connection.confined(policy, body) } catch let refusal as ConfinementRefusal {
            throw MigrationError.event(item.event ?? "(bookkeeping)", item.direction, refusal.reason, sql: item.statement.sql)
        }
    }

    /// Records `revision` without running anything (adopting a database), with
    /// copies of the events that lead to it so the database can be walked back
    /// without a log.
    package func stamp(_ revision: String?, events: [Event], context: MigrationContext) throws {
        do {
            try connection.transaction {
                for statement in Bookkeeping.createTables { try connection.execute(statement) }
                for e in events { try connection.execute(Bookkeeping.recordEvent(e)) }
                try connection.execute(Bookkeeping.recordHistory(revision: revision ?? Bookkeeping.base, direction: "stamp", context: context))
                try connection.execute(Bookkeeping.setVersion(revision, context: context))
            }
        } catch let e as SQLiteError where e.isBusy {
            throw MigrationError.locked(path)
        } catch let e as SQLiteError where e.code & 0xFF == SQLITE_READONLY {
            throw MigrationError.readOnly(path)
        } catch let e as SQLiteError where e.code & 0xFF == SQLITE_NOTADB {
            throw MigrationError.notADatabase(path, e.message)
        }
    }

    /// Creates the objects of `schema` in this (empty) database.
    package func create(_ schema: Schema) throws {
        try connection.transaction {
            for statement in DDL.script(schema) { try connection.executeOne(statement) }
        }
    }
}

