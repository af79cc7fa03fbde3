import Foundation
import StrataCore
import StrataSQLite

/// The local log in one SQLite file (`.strata/log.db`).
///
/// SQLite's transactions make it crash-safe: a process killed at any instant
/// leaves the file with every committed append and none of a partial one.
/// It is tamper-evident because each row keeps the canonical bytes of its
/// event and `verify` recomputes every id and link from them. The `heads` and
/// `snapshots` tables are derived data, written in the same transaction as the
/// events they follow and rebuilt from them by `rebuildDerivedData()`.
package final class SQLiteEventLog: SyncLog {
    package let path: String
    let db: Connection
    package let snapshotInterval: Int
    var cache: [String: (event: Event, height: Int)] = [:]
    var snapshotIDs: Set<String>?
    /// The state after the newest event this process appended, so a run of
    /// appends does not fold from a snapshot each time.
    var lastState: (String, Schema)?

    static let schemaVersion: Int64 = 1

    /// One file can hold the logs of several projects (the registry's
    /// store does); a local log holds one, under the project "".
    package let project: String

    static let setup = [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS events (
            seq INTEGER PRIMARY KEY,
            project TEXT NOT NULL DEFAULT '',
            id TEXT NOT NULL,
            height INTEGER NOT NULL,
            body BLOB NOT NULL,
            UNIQUE (project, id)
        )
        """,
        // Pages of "events after X" are range scans, not scans of the whole log.
        "CREATE INDEX IF NOT EXISTS events_by_seq ON events (project, seq)",
        "CREATE TABLE IF NOT EXISTS heads (project TEXT NOT NULL DEFAULT '', id TEXT NOT NULL, PRIMARY KEY (project, id))",
        edgesTable,
        "CREATE TABLE IF NOT EXISTS snapshots (project TEXT NOT NULL DEFAULT '', id TEXT NOT NULL, state BLOB NOT NULL, PRIMARY KEY (project, id))",
        """
        CREATE TABLE IF NOT EXISTS remote (
            project TEXT NOT NULL DEFAULT '',
            id TEXT NOT NULL,
            pushed_by TEXT NOT NULL,
            pushed_at TEXT NOT NULL,
            PRIMARY KEY (project, id)
        )
        """,
        "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, project TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL, body TEXT NOT NULL)",
        signaturesTable,
    ]

    /// Signatures beside the events (outside their ids): Ed25519 over the
    /// canonical bytes, with the signer's public key.
    static let signaturesTable = """
        CREATE TABLE IF NOT EXISTS signatures (
            project TEXT NOT NULL DEFAULT '', id TEXT NOT NULL, signed_by TEXT NOT NULL, signature TEXT NOT NULL,
            PRIMARY KEY (project, id)
        )
        """

    /// An event read back from its stored bytes and its signature columns (NULL when unsigned).
    /// With `id` (the row's own), the stored bytes are trusted as written:
    /// see `Event(stored:id:)`; `verify` checks them.
    package static func decode(_ body: Value, signedBy: Value, signature: Value, id: String? = nil) throws -> Event {
        let e = try id.map { try Event(stored: body.bytes ?? [], id: $0) } ?? Event(canonical: body.bytes ?? [])
        return try e.withStoredSignature(signedBy: signedBy.string, signature: signature.string)
    }

    /// The SQL that reads an event's body and signature: `e` is the events table.
    package static let signedColumns = "e.body, s.signed_by, s.signature"
    package static let signedJoin = "LEFT JOIN signatures s ON s.project = e.project AND s.id = e.id"

    /// Parent links: who builds on an event is a point lookup, not a scan of
    /// every event's parents (rebase, drop of unpushed work). An event's own
    /// parents are in its body, so no second index is kept.
    static let edgesTable = """
        CREATE TABLE IF NOT EXISTS edges (
            project TEXT NOT NULL DEFAULT '', parent TEXT NOT NULL, child TEXT NOT NULL,
            PRIMARY KEY (project, parent, child)
        ) WITHOUT ROWID
        """
    static let edgesFromEvents = """
        INSERT OR IGNORE INTO edges (project, parent, child)
        SELECT e.project, p.value, e.id FROM events e, json_each(json_extract(CAST(e.body AS TEXT), '$.parents')) p
        """

    /// Opens the log at `path`; creates it only when `create` is set.
    package init(path: String, create: Bool = false, snapshotInterval: Int = 256, project: String = "") throws {
        self.path = path
        self.snapshotInterval = snapshotInterval
        self.project = project
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw LogError(.notFound, "no strata log at \(path)", reason: .noLog)
        }
        do {
            db = try Connection(path: path, create: create)
            db.setBusyTimeout(milliseconds: 10_000)
            if create {
                try db.transaction {
                    for s in SQLiteEventLog.setup { try db.execute(s) }
                    try db.query("INSERT OR IGNORE INTO meta (key, value) VALUES ('format', ?)", [.text(String(SQLiteEventLog.schemaVersion))])
                }
            }
            guard try db.scalar("SELECT value FROM meta WHERE key = 'format'")?.string == String(SQLiteEventLog.schemaVersion) else {
                throw LogError(.corrupt, "\(path) is not a strata log of format \(SQLiteEventLog.schemaVersion)")
            }
            // A log written before signatures existed gets their table.
            try db.execute(SQLiteEventLog.signaturesTable)
            // A log written before the edges table existed gets it, once.
            if try db.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'edges'") == nil {
                try db.transaction {
                    try db.execute(SQLiteEventLog.edgesTable)
                    try db.execute(SQLiteEventLog.edgesFromEvents)
                }
            }
        } catch let e as SQLiteError {
            throw LogError(.corrupt, "cannot read the strata log at \(path): \(e.message)")
        }
    }

    /// The connection, for a caller that keeps its own tables in the same file.
    package var connection: Connection { db }

    var p: Value { .text(project) }

    // MARK: - Reading

    package func count() throws -> Int { Int(try db.scalar("SELECT count(*) FROM events WHERE project = ?", [p])?.int ?? 0) }

    package func contains(_ id: String) throws -> Bool {
        if cache[id] != nil { return true }
        return try db.scalar("SELECT 1 FROM events WHERE project = ? AND id = ?", [p, .text(id)]) != nil
    }

    private func load(_ id: String) throws -> (event: Event, height: Int) {
        if let hit = cache[id] { return hit }
        guard let row = try db.query("SELECT \(Self.signedColumns), e.height FROM events e \(Self.signedJoin) WHERE e.project = ? AND e.id = ?",
                                     [p, .text(id)]).first else {
            throw LogError(.notFound, "unknown revision \(id.prefix(12)): it is not in the local log")
        }
        let event: Event
        do { event = try Self.decode(row[0], signedBy: row[1], signature: row[2], id: id) } catch {
            throw LogError(.corrupt, "stored event \(id.prefix(12)) cannot be read: \(error)", reason: .unreadable)
        }
        let entry = (event, Int(row[3].int ?? 0))
        cache[id] = entry
        return entry
    }

    package func event(_ id: String) throws -> Event { try load(id).event }

    package func height(_ id: String) throws -> Int { try load(id).height }

    /// CROSS JOIN keeps the (few) heads as the outer loop; otherwise the
    /// planner may walk every event by seq to skip a sort of two rows.
    package func heads() throws -> [String] {
        try db.query("SELECT h.id FROM heads h CROSS JOIN events e ON e.project = h.project AND e.id = h.id WHERE h.project = ? ORDER BY e.seq", [p]).compactMap { $0[0].string }
    }

    package func allEvents() throws -> [Event] {
        try db.query("SELECT e.id, \(Self.signedColumns) FROM events e \(Self.signedJoin) WHERE e.project = ? ORDER BY e.seq", [p]).map { row in
            do { return try Self.decode(row[1], signedBy: row[2], signature: row[3], id: row[0].string) } catch {
                throw LogError(.corrupt, "stored event \(row[0].string ?? "?") cannot be read: \(error)", reason: .unreadable)
            }
        }
    }

    /// Raw rows for `verify`: the stored id, height and bytes, unparsed.
    package func rawRows() throws -> [(seq: Int64, id: String, height: Int, body: [UInt8])] {
        try db.query("SELECT seq, id, height, body FROM events WHERE project = ? ORDER BY seq", [p]).map {
            ($0[0].int ?? 0, $0[1].string ?? "", Int($0[2].int ?? 0), $0[3].bytes ?? [])
        }
    }

    package func ids(withPrefix prefix: String) throws -> [String] {
        // A range scan on the UNIQUE index: "abcd" <= id < "abce".
        try db.query("SELECT id FROM events WHERE project = ? AND id >= ? AND id < ? ORDER BY id LIMIT 5",
                     [p, .text(prefix), .text(prefix + "g")]).compactMap { $0[0].string }
    }

    /// Walking back to a snapshot asks about every event on the way: the
    /// ids of the (few) snapshots are read once instead of once per step.
    package func snapshot(at id: String) throws -> Schema? {
        if snapshotIDs == nil {
            snapshotIDs = Set(try db.query("SELECT id FROM snapshots WHERE project = ?", [p]).compactMap { $0[0].string })
        }
        guard snapshotIDs!.contains(id) else { return nil }
        guard let bytes = try db.scalar("SELECT state FROM snapshots WHERE project = ? AND id = ?", [p, .text(id)])?.bytes else { return nil }
        do { return try Schema(json: try JSON.parse(bytes)) } catch { return nil } // a bad cache entry is only slower
    }

    package func saveSnapshot(_ schema: Schema, at id: String) throws {
        try db.query("INSERT OR REPLACE INTO snapshots (project, id, state) VALUES (?, ?, ?)", [p, .text(id), .blob(schema.json.canonicalBytes)])
        snapshotIDs?.insert(id)
    }

    /// Canonical bytes put `"op":"exec"` only where an op is a data step (a
    /// quote inside SQL text is escaped), so a substring test finds them.
    package func idsWithDataSteps() throws -> [String] {
        try db.query("SELECT id FROM events WHERE project = ? AND instr(body, CAST('\"op\":\"exec\"' AS BLOB)) > 0", [p]).compactMap { $0[0].string }
    }

    // MARK: - Appending

    package func append(_ events: [Event], expectedHeads: [String]?) throws {
        try append(events, expectedHeads: expectedHeads, alsoInTransaction: nil)
    }

    /// Appends, running `also` inside the same transaction before it commits
    /// (the registry records who pushed and its audit entry that way: all or
    /// nothing together).
    package func append(_ events: [Event], expectedHeads: [String]?, alsoInTransaction also: ((Connection, [Event]) throws -> Void)?) throws {
        try append(events, expectedHeads: expectedHeads, before: nil, also: also)
    }

    /// Appends as `append(_:expectedHeads:alsoInTransaction:)` does, but
    /// checks the events before it takes the file's write lock, which it
    /// then holds only to insert them (and re-check the heads): a push
    /// that takes seconds to validate does not hold up writers of other
    /// projects in the same file. Events are immutable and append-only, so
    /// what the check read stays true; the caller keeps appends to this log
    /// from running side by side (the registry: one at a time per project).
    package func appendCheckingFirst(_ events: [Event], expectedHeads: [String]?, alsoInTransaction also: ((Connection, [Event]) throws -> Void)?) throws {
        guard !events.isEmpty else { return }
        struct Planned { let event: Event; let height: Int; let snapshot: [UInt8]? }
        var planned: [Planned] = []
        var validator = AppendValidator(log: self)
        do {
            if let expectedHeads, Set(try heads()) != Set(expectedHeads) {
                throw LogError(.conflict, "the log changed while this command ran (another strata command appended to it); run the command again")
            }
            validator.expect(events)
            var heights: [String: Int] = [:]
            for e in events where heights[e.id] == nil {
                if try contains(e.id) { continue }
                let state = try validator.check(e, cachedParentState: lastState)
                let height = 1 + (try e.parents.map { try heights[$0] ?? self.height($0) }.max() ?? 0)
                heights[e.id] = height
                planned.append(Planned(event: e, height: height,
                                       snapshot: snapshotInterval > 0 && height % snapshotInterval == 0 ? state.json.canonicalBytes : nil))
            }
        } catch {
            cache = [:]
            snapshotIDs = nil
            if let e = error as? SQLiteError { throw LogError(.corrupt, "cannot read \(path): \(e.message)") }
            throw error
        }
        do {
            try db.execute("BEGIN IMMEDIATE")
        } catch let e as SQLiteError where e.isBusy {
            throw LogError(.locked, "the log \(path) is busy (another writer holds it); try again")
        }
        do {
            if let expectedHeads, Set(try heads()) != Set(expectedHeads) {
                throw LogError(.conflict, "the log changed while this command ran (another strata command appended to it); run the command again")
            }
            for e in events {
                guard let sig = e.signature else { continue }
                try db.query("INSERT OR IGNORE INTO signatures (project, id, signed_by, signature) VALUES (?, ?, ?, ?)",
                             [p, .text(e.id), .text(sig.signedBy), .text(sig.text)])
            }
            for item in planned {
                try insert(item.event, height: item.height)
                if let bytes = item.snapshot {
                    try db.query("INSERT OR REPLACE INTO snapshots (project, id, state) VALUES (?, ?, ?)", [p, .text(item.event.id), .blob(bytes)])
                    snapshotIDs?.insert(item.event.id)
                }
            }
            try also?(db, events)
            try db.execute("COMMIT")
            if let newLast = validator.last { lastState = (newLast.id, newLast.state) }
        } catch {
            try rollBack(after: error)
        }
    }

    /// One event's row, its parent links and the heads it moves.
    private func insert(_ e: Event, height: Int) throws {
        try db.query("INSERT INTO events (project, id, height, body) VALUES (?, ?, ?, ?)", [p, .text(e.id), .int(Int64(height)), .blob(e.canonicalBytes)])
        for parent in e.parents {
            try db.query("DELETE FROM heads WHERE project = ? AND id = ?", [p, .text(parent)])
            try db.query("INSERT OR IGNORE INTO edges (project, parent, child) VALUES (?, ?, ?)", [p, .text(parent), .text(e.id)])
        }
        try db.query("INSERT INTO heads (project, id) VALUES (?, ?)", [p, .text(e.id)])
    }

    /// Undoes a failed append and says why in the log's words.
    private func rollBack(after error: Error) throws -> Never {
        if db.isInTransaction { try? db.execute("ROLLBACK") }
        cache = [:]
        snapshotIDs = nil
        if let e = error as? SQLiteError, e.isFull { throw LogError(.full, "cannot append to \(path): \(e.message); nothing was written") }
        if let e = error as? SQLiteError { throw LogError(.corrupt, "cannot append to \(path): \(e.message)") }
        throw error
    }

    func append(_ events: [Event], expectedHeads: [String]?, before: ((Connection) throws -> Void)?,
                also: ((Connection, [Event]) throws -> Void)? = nil) throws {
        guard !events.isEmpty else { return }
        do {
            try db.execute("BEGIN IMMEDIATE")
        } catch let e as SQLiteError where e.isBusy {
            throw LogError(.locked, "the log \(path) is busy (another strata command is writing it); try again")
        }
        do {
            if let before {
                try before(db)
                forgetCachedState()
            }
            if let expectedHeads, Set(try heads()) != Set(expectedHeads) {
                throw LogError(.conflict, "the log changed while this command ran (another strata command appended to it); run the command again")
            }
            var validator = AppendValidator(log: self)
            validator.expect(events)
            for e in events {
                if let sig = e.signature {
                    // A signature may arrive for an event already here (pulled back after a push).
                    try db.query("INSERT OR IGNORE INTO signatures (project, id, signed_by, signature) VALUES (?, ?, ?, ?)",
                                 [p, .text(e.id), .text(sig.signedBy), .text(sig.text)])
                }
                if try contains(e.id) { continue }
                let state = try validator.check(e, cachedParentState: lastState)
                // Rows inserted earlier in this transaction are visible here.
                let height = 1 + (try e.parents.map { try self.height($0) }.max() ?? 0)
                try insert(e, height: height)
                if snapshotInterval > 0 && height % snapshotInterval == 0 { try saveSnapshot(state, at: e.id) }
            }
            try also?(db, events)
            try db.execute("COMMIT")
            if let newLast = validator.last { lastState = (newLast.id, newLast.state) }
        } catch {
            try rollBack(after: error)
        }
    }

    // MARK: - Registry bookkeeping

    package var location: String { path }

    /// Records acknowledgements in one transaction (one fsync, not one each).
    package func markPushed(_ receipts: [PushReceipt]) throws {
        guard !receipts.isEmpty else { return }
        try db.transaction { try Self.recordPushed(db, project: project, receipts) }
    }

    package func appendPulled(_ events: [Event], receipts: [PushReceipt]) throws {
        try append(events, expectedHeads: nil, alsoInTransaction: { [project] db, _ in
            try SQLiteEventLog.recordPushed(db, project: project, receipts)
        })
    }

    static func recordPushed(_ db: Connection, project: String, _ entries: [PushReceipt]) throws {
        for e in entries {
            try db.query("INSERT OR REPLACE INTO remote (project, id, pushed_by, pushed_at) VALUES (?, ?, ?, ?)",
                         [.text(project), .text(e.id), .text(e.by), .text(e.at)])
        }
    }

    package func pushedInfo() throws -> [String: (by: String, at: String)] {
        var result: [String: (by: String, at: String)] = [:]
        for row in try db.query("SELECT id, pushed_by, pushed_at FROM remote WHERE project = ?", [p]) {
            result[row[0].string ?? ""] = (row[1].string ?? "", row[2].string ?? "")
        }
        return result
    }

    /// Rebuilds the derived tables (edges, heads, snapshots) from the events.
    package func rebuildDerivedData() throws {
        try db.transaction {
            for table in ["edges", "heads", "snapshots"] { try db.query("DELETE FROM \(table) WHERE project = ?", [p]) }
            try db.query(SQLiteEventLog.edgesFromEvents + " WHERE e.project = ?", [p])
            try db.query("""
                INSERT INTO heads (project, id) SELECT project, id FROM events e WHERE project = ?
                AND NOT EXISTS (SELECT 1 FROM edges WHERE project = e.project AND parent = e.id)
                """, [p])
        }
        forgetCachedState()
    }

    /// After events were removed: nothing read before may be reused.
    func forgetCachedState() {
        cache = [:]
        snapshotIDs = nil
        lastState = nil
    }
}
