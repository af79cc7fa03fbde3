import Foundation
import StrataCore
import StrataSQLite

/// A database's state as `--check-downs` compares it: the schema, and how
/// many rows each table holds (a seed whose down leaves its rows behind
/// does not return to the previous state).
struct Snapshot: Equatable {
    var schema: Schema
    var rows: [String: Int64]

    static func of(_ db: Connection) throws -> Snapshot {
        let schema = try Inspector(db).schema()
        var rows: [String: Int64] = [:]
        for table in schema.tables.values {
            rows[table.name] = try db.scalar("SELECT count(*) FROM \(SQL.quote(table.name))")?.int ?? 0
        }
        return Snapshot(schema: schema, rows: rows)
    }

    /// How `self` differs from `before`, in the words of strata's changes.
    func differences(from before: Snapshot) -> [String] {
        var found = before.schema.differences(to: schema)
        for table in rows.keys.sorted() where before.rows[table] != nil && before.rows[table] != rows[table] {
            found.append("\(table) holds \(rows[table]!) row\(rows[table]! == 1 ? "" : "s"), \(before.rows[table]!) before")
        }
        return found
    }
}

/// What one of the folder's own downs does, run right after its up.
package enum DownVerdict: Sendable, Equatable {
    /// Back to exactly the state before the up: schema and row counts.
    case returns
    /// Somewhere else; what remains different, as strata's changes.
    case differs([String])
    /// It stops with an error.
    case fails(String)
    /// The migration has no down.
    case missing
}

package struct DownCheck: Sendable, Equatable {
    package let migration: String
    package let verdict: DownVerdict
}

/// `strata import FORMAT DIR --check-downs`: the folder's hand-written downs
/// are not imported (strata derives its own) but they are evidence. Each is
/// run on a scratch database right after its up, compared with the state
/// before the up, and undone (a savepoint) so the next migration starts
/// where the ups leave it. Nothing is recorded.
extension Project {
    package func checkDowns(_ format: ImportFormat, _ dir: String, onto revision: String?,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> [DownCheck] {
        if format == .alembic {
            // Alembic's revisions start from an empty database, whatever the log holds.
            return try alembicRevisions(dir, checkDowns: true).compactMap { r in
                guard let before = r.before else { return nil }
                if let error = r.downError { return DownCheck(migration: r.label, verdict: .fails(error)) }
                guard let down = r.down else { return DownCheck(migration: r.label, verdict: .missing) }
                let differences = down.differences(from: before)
                return DownCheck(migration: r.label, verdict: differences.isEmpty ? .returns : .differs(differences))
            }
        }
        guard format.hasDowns else { return [] }
        let start = try log.state(at: try importBase(revision))
        let migrations = try format.read(dir)
        let db = try Connection.memory()
        for statement in DDL.script(start) { try db.executeOne(statement) }
        var checks: [DownCheck] = []
        for (n, m) in migrations.enumerated() {
            progress(n, migrations.count)
            let label = format.source(of: m)
            let before = try Snapshot.of(db)
            try Importer.run(m.up, on: db, source: label)
            guard let down = m.down else {
                checks.append(DownCheck(migration: label, verdict: .missing))
                continue
            }
            try db.execute("SAVEPOINT strata_check_down")
            do {
                try Importer.run(down, on: db, source: "the down of \(label)")
                let differences = try Snapshot.of(db).differences(from: before)
                checks.append(DownCheck(migration: label, verdict: differences.isEmpty ? .returns : .differs(differences)))
            } catch {
                checks.append(DownCheck(migration: label, verdict: .fails("\(error)")))
            }
            try db.execute("ROLLBACK TO strata_check_down")
            try db.execute("RELEASE strata_check_down")
        }
        progress(migrations.count, migrations.count)
        return checks
    }
}

extension ImportFormat {
    /// drizzle and prisma keep no downs: their folders only go forward.
    package var hasDowns: Bool { self != .drizzle && self != .prisma }
}

extension Importer {
    /// Runs a migration file as its tool would, leaving out the transaction
    /// statements (the caller holds the transaction).
    static func run(_ sql: String, on db: Connection, source: String) throws {
        try StatementRunner.each(sql, on: db, source: source) { _, first, _, _ in
            ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"].contains(first.text.uppercased()) ? .skip : .run
        }
    }
}
