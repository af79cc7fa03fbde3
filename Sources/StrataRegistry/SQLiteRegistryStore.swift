import Foundation
import StrataCore
import StrataSQLite
import StrataLog
import StrataWire

/// The registry's default storage: one SQLite file. Each project's events
/// live in the same tables as a local log (scoped by project), so pushes get
/// the same validation; who pushed, and the audit entry, are written in the
/// push's own transaction.
///
/// Pushes to one project wait for each other (each project's log is an
/// actor of its own, `ProjectLog`); a push checks its events before it
/// takes the file's write lock and holds it only to insert them, so a
/// long push to one project does not hold up pulls, or pushes to
/// another. Everything else reads and writes through this actor's
/// connection.
package actor SQLiteRegistryStore: RegistryStore {
    package let path: String
    let db: Connection
    private var logs: [String: ProjectLog] = [:]

    static let setup = [
        "CREATE TABLE IF NOT EXISTS projects (name TEXT PRIMARY KEY, created_by TEXT NOT NULL, created_at TEXT NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS environments (
            project TEXT NOT NULL, name TEXT NOT NULL, revision TEXT NOT NULL, set_by TEXT NOT NULL, set_at TEXT NOT NULL,
            PRIMARY KEY (project, name))
        """,
        """
        CREATE TABLE IF NOT EXISTS reports (
            project TEXT NOT NULL, node TEXT NOT NULL, database TEXT NOT NULL, revision TEXT NOT NULL, direction TEXT NOT NULL,
            environment TEXT, at TEXT NOT NULL, reported_by TEXT NOT NULL, reported_at TEXT NOT NULL, drifted INTEGER,
            PRIMARY KEY (project, node, database))
        """,
        """
        CREATE TABLE IF NOT EXISTS rollouts (
            project TEXT NOT NULL, environment TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
            PRIMARY KEY (project, environment))
        """,
        """
        CREATE TABLE IF NOT EXISTS audit (
            seq INTEGER PRIMARY KEY, project TEXT NOT NULL, action TEXT NOT NULL, identity TEXT NOT NULL, at TEXT NOT NULL, detail TEXT NOT NULL)
        """,
        // Append-only: the audit trail cannot be edited through SQL either.
        "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
        // So are the events: an edited body would be served under a new id.
        "CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
    ]

    package nonisolated var location: String { path }

    package init(path: String) throws {
        self.path = path
        // Creates the shared tables (events, heads, snapshots, remote) too.
        _ = try SQLiteEventLog(path: path, create: true, project: "")
        db = try Connection(path: path)
        db.setBusyTimeout(milliseconds: 10_000)
        try db.transaction {
            for s in SQLiteRegistryStore.setup { try db.execute(s) }
            // A store written before reports carried drift gains the column.
            if try db.scalar("SELECT count(*) FROM pragma_table_info('reports') WHERE name = 'drifted'")?.int == 0 {
                try db.execute("ALTER TABLE reports ADD COLUMN drifted INTEGER")
            }
            // ...and the failure a node reported, since rollouts count them.
            if try db.scalar("SELECT count(*) FROM pragma_table_info('reports') WHERE name = 'failure'")?.int == 0 {
                try db.execute("ALTER TABLE reports ADD COLUMN failure TEXT")
            }
        }
    }

    /// Runs `body` on the connection that appends `project`'s events (tests
    /// set a size limit there to make the disk full for real).
    func onEventConnection(_ project: String, _ body: @Sendable (Connection) throws -> Void) async throws {
        try await log(project).run(body)
    }

    func log(_ project: String) throws -> ProjectLog {
        try requireProject(project)
        if let l = logs[project] { return l }
        let l = try ProjectLog(path: path, project: project)
        logs[project] = l
        return l
    }

    func requireProject(_ project: String) throws {
        guard try hasProject(project) else { throw RegistryError.unknownProject(project) }
    }

    static func audit(_ db: Connection, _ project: String, _ action: String, _ identity: String, _ time: String, _ detail: JSON) throws {
        try db.query("INSERT INTO audit (project, action, identity, at, detail) VALUES (?, ?, ?, ?, ?)",
                     [.text(project), .text(action), .text(identity), .text(time), .text(detail.canonicalString)])
    }

    package func createProject(_ name: String, by identity: String, at time: String) throws {
        try db.transaction {
            guard try db.scalar("SELECT 1 FROM projects WHERE name = ?", [.text(name)]) == nil else { throw RegistryError.projectExists(name) }
            try db.query("INSERT INTO projects (name, created_by, created_at) VALUES (?, ?, ?)", [.text(name), .text(identity), .text(time)])
            try SQLiteRegistryStore.audit(db, name, "create-project", identity, time, .object([:]))
        }
    }

    package func hasProject(_ name: String) throws -> Bool {
        try db.scalar("SELECT 1 FROM projects WHERE name = ?", [.text(name)]) != nil
    }

    package func projects() throws -> [String] {
        try db.query("SELECT name FROM projects ORDER BY name").compactMap { $0[0].string }
    }

    package func head(of project: String) throws -> String? {
        try requireProject(project)
        return try db.scalar("SELECT h.id FROM heads h CROSS JOIN events e ON e.project = h.project AND e.id = h.id WHERE h.project = ? ORDER BY e.seq LIMIT 1",
                             [.text(project)])?.string
    }

    package func count(of project: String) throws -> Int {
        try requireProject(project)
        return Int(try db.scalar("SELECT count(*) FROM events WHERE project = ?", [.text(project)])?.int ?? 0)
    }

    /// A range count on the (project, seq) index.
    package func countAfter(_ after: String, of project: String) throws -> Int {
        Int(try db.scalar("SELECT count(*) FROM events WHERE project = ? AND seq > (SELECT seq FROM events WHERE project = ? AND id = ?)",
                          [.text(project), .text(project), .text(after)])?.int ?? 0)
    }

    package func events(of project: String, after: String?, limit: Int) throws -> (events: [PushedEvent], more: Bool) {
        try requireProject(project)
        var from: Int64 = 0
        if let after {
            guard let seq = try db.scalar("SELECT seq FROM events WHERE project = ? AND id = ?", [.text(project), .text(after)])?.int else {
                throw RegistryError.unknownCursor("unknown event \(after.prefix(12)) in project \(project); pull without `after` to start over")
            }
            from = seq
        }
        let rows = try db.query("""
            SELECT r.pushed_by, r.pushed_at, \(SQLiteEventLog.signedColumns), e.id FROM events e JOIN remote r ON r.project = e.project AND r.id = e.id
            \(SQLiteEventLog.signedJoin) WHERE e.project = ? AND e.seq > ? ORDER BY e.seq LIMIT ?
            """, [.text(project), .int(from), .int(Int64(limit + 1))])
        let events = try rows.prefix(limit).map { row in
            let event = try SQLiteEventLog.decode(row[2], signedBy: row[3], signature: row[4])
            // The id is recomputed from the body: a body edited in the store is never served.
            guard event.id == row[5].string else {
                throw RegistryError.corrupt(row[5].string ?? "?")
            }
            return PushedEvent(event: event, pushedBy: row[0].string ?? "", pushedAt: row[1].string ?? "")
        }
        return (events, rows.count > limit)
    }

    package func push(_ events: [Event], to project: String, base: String?, by identity: String, signers: [String], at time: String) async throws -> String {
        // Awaiting the project's own actor leaves this one free for every other request.
        try await log(project).push(events, base: base, by: identity, signers: signers, at: time)
    }

    package func setTarget(_ revision: String, environment: String, of project: String, by identity: String, at time: String) throws {
        try requireProject(project)
        guard try db.scalar("SELECT 1 FROM events WHERE project = ? AND id = ?", [.text(project), .text(revision)]) != nil else { throw RegistryError.notFound("revision \(revision.prefix(12)) is not in project \(project); push it first") }
        try db.transaction {
            try db.query("INSERT OR REPLACE INTO environments (project, name, revision, set_by, set_at) VALUES (?, ?, ?, ?, ?)",
                         [.text(project), .text(environment), .text(revision), .text(identity), .text(time)])
            try SQLiteRegistryStore.audit(db, project, "promote", identity, time, .object(["environment": .string(environment), "revision": .string(revision)]))
        }
    }

    package func targets(of project: String) throws -> [EnvironmentTarget] {
        try requireProject(project)
        return try db.query("SELECT name, revision, set_by, set_at FROM environments WHERE project = ? ORDER BY name", [.text(project)]).map {
            EnvironmentTarget(name: $0[0].string ?? "", revision: $0[1].string ?? "", setBy: $0[2].string ?? "", setAt: $0[3].string ?? "")
        }
    }

    package func record(_ reports: [Report], of project: String, by identity: String, at time: String) throws {
        try requireProject(project)
        try db.transaction {
            for report in reports {
            try db.query("""
                INSERT OR REPLACE INTO reports (project, node, database, revision, direction, environment, at, reported_by, reported_at, drifted, failure)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(project), .text(report.node), .text(report.database), .text(report.revision), .text(Report.wireName(report.direction)),
                      report.environment.map(Value.text) ?? .null, .text(report.at), .text(identity), .text(time),
                      report.drifted.map { .int($0 ? 1 : 0) } ?? .null, report.failure.map(Value.text) ?? .null])
            try SQLiteRegistryStore.audit(db, project, "report", identity, time, report.json)
            }
        }
    }

    package func reports(of project: String) throws -> [StoredReport] {
        try requireProject(project)
        return try db.query("""
            SELECT node, database, revision, direction, at, environment, reported_by, reported_at, drifted, failure FROM reports WHERE project = ? ORDER BY node, database
            """, [.text(project)]).map {
            StoredReport(report: Report(node: $0[0].string ?? "", database: $0[1].string ?? "", revision: $0[2].string ?? "",
                                        direction: $0[3].string.flatMap(Direction.init(rawValue:)), at: $0[4].string ?? "", environment: $0[5].string,
                                        drifted: $0[8].int.map { $0 != 0 }, failure: $0[9].string),
                         reportedBy: $0[6].string ?? "", reportedAt: $0[7].string ?? "")
        }
    }

    package func rollout(of project: String, environment: String) throws -> StoredRollout? {
        try requireProject(project)
        guard let row = try db.query("SELECT version, body FROM rollouts WHERE project = ? AND environment = ?", [.text(project), .text(environment)]).first else { return nil }
        return StoredRollout(rollout: try Rollout(json: try JSON.parse(row[1].string ?? "")), version: Int(row[0].int ?? 0))
    }

    package func saveRollout(_ rollout: Rollout, of project: String, expected: Int?, target: String?, note: AuditNote) throws -> Bool {
        try requireProject(project)
        if let target, try db.scalar("SELECT 1 FROM events WHERE project = ? AND id = ?", [.text(project), .text(target)]) == nil {
            throw RegistryError.notFound("revision \(target.prefix(12)) is not in project \(project); push it first")
        }
        return try db.transaction {
            let stored = try db.scalar("SELECT version FROM rollouts WHERE project = ? AND environment = ?", [.text(project), .text(rollout.environment)])?.int
            guard stored.map(Int.init) == expected else { return false }
            try db.query("INSERT OR REPLACE INTO rollouts (project, environment, version, body) VALUES (?, ?, ?, ?)",
                         [.text(project), .text(rollout.environment), .int(Int64((expected ?? 0) + 1)), .text(rollout.json.canonicalString)])
            if let target {
                try db.query("INSERT OR REPLACE INTO environments (project, name, revision, set_by, set_at) VALUES (?, ?, ?, ?, ?)",
                             [.text(project), .text(rollout.environment), .text(target), .text(note.identity), .text(note.at)])
            }
            try SQLiteRegistryStore.audit(db, project, note.action, note.identity, note.at, note.detail)
            return true
        }
    }

    package func audit(of project: String) throws -> [AuditRecord] {
        try requireProject(project)
        return try db.query("SELECT seq, action, identity, at, detail FROM audit WHERE project = ? ORDER BY seq", [.text(project)]).map {
            AuditRecord(seq: $0[0].int ?? 0, action: $0[1].string ?? "", identity: $0[2].string ?? "", at: $0[3].string ?? "",
                        detail: (try? JSON.parse($0[4].string ?? "{}")) ?? .null)
        }
    }
}

/// One project's log in the store's file, on a connection of its own:
/// pushes to the project run here one at a time.
actor ProjectLog {
    let project: String
    let log: SQLiteEventLog

    init(path: String, project: String) throws {
        self.project = project
        log = try SQLiteEventLog(path: path, create: false, project: project)
    }

    func run(_ body: @Sendable (Connection) throws -> Void) throws { try body(log.connection) }

    func push(_ events: [Event], base: String?, by identity: String, signers: [String], at time: String) throws -> String {
        let head = try log.heads().first
        guard head == base else { throw RegistryError.conflict(head: head) }
        let project = self.project
        do {
            try log.appendCheckingFirst(events, expectedHeads: base.map { [$0] } ?? [], alsoInTransaction: { db, events in
                let heads = try db.query("SELECT id FROM heads WHERE project = ?", [.text(project)])
                guard heads.count == 1 else {
                    throw RegistryError.invalid("the events do not extend the registry's head \(base.map { String($0.prefix(12)) } ?? "base") in one line; pull, merge or rebase, and push again")
                }
                for e in events {
                    try db.query("INSERT OR IGNORE INTO remote (project, id, pushed_by, pushed_at) VALUES (?, ?, ?, ?)",
                                 [.text(project), .text(e.id), .text(identity), .text(time)])
                }
                var detail: [String: JSON] = [
                    "base": base.map(JSON.string) ?? .null, "head": .string(heads[0][0].string ?? ""), "events": .int(Int64(events.count)),
                ]
                // Who signed, when anyone did (trusted names, else the public keys).
                if !signers.isEmpty { detail["signed_by"] = .array(signers.map(JSON.string)) }
                try SQLiteRegistryStore.audit(db, project, "push", identity, time, .object(detail))
            })
        } catch let e as LogError where e.kind == .conflict {
            throw RegistryError.conflict(head: try log.heads().first)
        } catch let e as LogError where e.kind == .full {
            throw RegistryError.storeFull(e.message)
        } catch let e as LogError where e.kind == .locked {
            throw RegistryError.unavailable(e.message)
        } catch let e as LogError {
            throw RegistryError.invalid(e.message)
        }
        guard let newHead = try log.heads().first else { throw RegistryError.invalid("nothing was pushed") }
        return newHead
    }
}
