import StrataLog
import StrataCore
import StrataSQLite
import StrataStore
import StrataTestSupport
import XCTest

/// A compacted run must leave exactly what the run event by event leaves:
/// the same schema, the same rows, the same stashes with the same rows, the
/// same bookkeeping; and the downgrades after it must bring back the same.
final class CompactionTests: XCTestCase {
    /// Random histories (tables, columns, renames, type/NOT NULL/default
    /// changes, indexes, views, triggers, virtual tables) applied in random
    /// chunks to two databases, one compacted and one event by event, with
    /// the same rows added between chunks; then walked back down in chunks.
    /// After every chunk both databases are compared whole.
    func testACompactedRunLeavesWhatTheRunEventByEventLeaves() throws {
        var compactedStatements = 0, plainStatements = 0
        for seed: UInt64 in 1...16 {
            let (c, p) = try compare(seed: seed, steps: 70, viewsAndTriggers: seed <= 8)
            guard c > 0 else { continue }
            compactedStatements += c
            plainStatements += p
        }
        // The compaction did something: fewer statements than event by event.
        XCTAssertLessThan(compactedStatements, plainStatements)
        XCTAssertGreaterThan(rebuiltOnce, 20)
        XCTAssertGreaterThan(finalShape, 20)
        print("compaction: \(compactedStatements) statements against \(plainStatements) event by event; \(stopped) of 16 histories ended at a way down their rows refuse; \(rebuiltOnce) compacted rebuilds, \(finalShape) tables created in their final shape")
    }

    func event(_ parent: Event?, _ message: String, _ ops: [Op]) -> Event {
        Event(parents: parent.map { [$0.id] } ?? [], author: "ana", timestamp: 0, message: message, ops: ops)
    }

    /// The statements of a plan that are not bookkeeping, as `--sql` has them.
    func sql(_ plan: MigrationPlan) -> [String] {
        plan.items.filter { $0.event != nil && !$0.statement.label.hasPrefix("keep a copy") && !$0.statement.label.hasPrefix("record it") }.map(\.statement.sql)
    }

    static let users = Table(name: "users", columns: [Column(name: "id", type: "INTEGER"), Column(name: "name", type: "TEXT")],
                             constraints: TableConstraints(primaryKey: ["id"]))

    /// A table created and then changed in the same run is created once, as
    /// the last event leaves it, with its index.
    func testATableCreatedInTheRunIsCreatedInItsFinalShape() throws {
        let a = event(nil, "users", [.createTable(Self.users, indexes: [], triggers: [])])
        let b = event(a, "email", [.addColumn(table: "users", column: Column(name: "email", type: "TEXT"), position: 2)])
        let c = event(b, "index", [.createIndex(Index(name: "ix_users_email", table: "users", unique: true, terms: ["email"]))])
        let plan = try Migrator.plan(start: .empty, from: nil, to: c.id, steps: [a, b, c].map { MigrationStep($0, .up) },
                                     context: MigrationContext(appliedBy: "ana", node: "n", now: 0))
        XCTAssertEqual(sql(plan), [
            "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    name TEXT,\n    email TEXT\n)",
            "CREATE UNIQUE INDEX ix_users_email ON users (email)",
        ])
        XCTAssertEqual(plan.items.first { $0.statement.sql.hasPrefix("CREATE TABLE users") }?.event, c.id)
        XCTAssertEqual(plan.items.first { $0.statement.sql.hasPrefix("CREATE TABLE users") }?.statement.label,
                       "create table users (its final shape: 2 later ops of this run compacted)")
        // Every event is still recorded.
        XCTAssertEqual(plan.items.filter { $0.statement.label == "record it in the history" }.map(\.event), [a.id, b.id, c.id])
    }

    /// Three changes that each rebuild a table, event by event, rebuild it
    /// once; a data step between events is a wall nothing is merged across.
    func testATableChangedThreeTimesIsRebuiltOnceAndADataStepIsAWall() throws {
        var start = Schema()
        start.tables["users"] = Self.users
        let name = Self.users.columns[1]
        var typed = name
        typed.type = "VARCHAR(80)"
        var defaulted = typed
        defaulted.defaultValue = "'anon'"
        let a = event(nil, "type", [.alterColumn(table: "users", from: name, to: typed)])
        let b = event(a, "default", [.alterColumn(table: "users", from: typed, to: defaulted)])
        let c = event(b, "age", [.addColumn(table: "users", column: Column(name: "age", type: "INTEGER", defaultValue: "0"), position: 1)])
        let context = MigrationContext(appliedBy: "ana", node: "n", now: 0)
        let plan = try Migrator.plan(start: start, from: nil, to: c.id, steps: [a, b, c].map { MigrationStep($0, .up) }, context: context)
        XCTAssertEqual(sql(plan), [
            "CREATE TABLE _strata_new_users (\n    id INTEGER PRIMARY KEY,\n    age INTEGER DEFAULT 0,\n    name VARCHAR(80) DEFAULT 'anon'\n)",
            "INSERT INTO _strata_new_users (id, age, name) SELECT id, 0, name FROM users",
            "DROP TABLE users",
            "PRAGMA legacy_alter_table = ON",
            "ALTER TABLE _strata_new_users RENAME TO users",
            "PRAGMA legacy_alter_table = OFF",
        ])
        XCTAssertEqual(Set(plan.items.filter { $0.statement.sql == "DROP TABLE users" }.map(\.statement.label)), ["rebuild users once for 3 ops of this run: drop the old table"])

        // The same with a data step after the first change: the rebuild
        // before it stays, the two after it are merged.
        let fill = event(a, "fill", [.exec(forward: "UPDATE users SET name = 'x' WHERE name IS NULL", reverse: "SELECT 1")])
        let b2 = event(fill, "default", [.alterColumn(table: "users", from: typed, to: defaulted)])
        let c2 = event(b2, "age", [.addColumn(table: "users", column: Column(name: "age", type: "INTEGER", defaultValue: "0"), position: 1)])
        let walled = try Migrator.plan(start: start, from: nil, to: c2.id, steps: [a, fill, b2, c2].map { MigrationStep($0, .up) }, context: context)
        XCTAssertEqual(sql(walled).filter { $0 == "DROP TABLE users" || $0.hasPrefix("UPDATE") }, ["DROP TABLE users", "UPDATE users SET name = 'x' WHERE name IS NULL", "DROP TABLE users"])
        XCTAssertEqual(walled.items.filter { $0.statement.sql == "DROP TABLE users" }.map(\.statement.label), ["rebuild users: drop the old table", "rebuild users once for 2 ops of this run: drop the old table"])
        // Each rebuild belongs to the last op it carries out: a, before the wall; c2, after it.
        XCTAssertEqual(walled.items.filter { $0.statement.sql == "DROP TABLE users" }.map(\.event), [a.id, c2.id])

        // Off, each event runs as recorded: three rebuilds.
        var off = context
        off.compact = false
        let plain = try Migrator.plan(start: start, from: nil, to: c.id, steps: [a, b, c].map { MigrationStep($0, .up) }, context: off)
        XCTAssertEqual(sql(plain).filter { $0 == "DROP TABLE users" }.count, 3)
    }

    /// A column dropped from a table that the run also rebuilds is kept
    /// from the table as it still is, before the one rebuild.
    func testADroppedColumnIsKeptFromTheTableBeforeItsOneRebuild() throws {
        var start = Schema()
        let t = Table(name: "users", columns: Self.users.columns + [Column(name: "nick", type: "TEXT")], constraints: Self.users.constraints)
        start.tables["users"] = t
        let name = t.columns[1]
        var typed = name
        typed.type = "VARCHAR(80)"
        let a = event(nil, "type", [.alterColumn(table: "users", from: name, to: typed)])
        let b = event(a, "rename", [.renameColumn(table: "users", from: "nick", to: "handle")])
        let c = event(b, "drop", [.dropColumn(table: "users", column: Column(name: "handle", type: "TEXT"), position: 2)])
        let plan = try Migrator.plan(start: start, from: nil, to: c.id, steps: [a, b, c].map { MigrationStep($0, .up) },
                                     context: MigrationContext(appliedBy: "ana", node: "n", now: 0))
        let stash = TrashSlots.name(event: c.id, op: 0)
        XCTAssertEqual(sql(plan), [
            "DROP TABLE IF EXISTS \(stash)",
            "CREATE TABLE \(stash) (strata_key_0 INTEGER, handle)",
            "INSERT INTO \(stash) SELECT rowid, nick FROM users",
            "INSERT OR REPLACE INTO strata_trash (stash, event, direction, op, what, rows, sequence, kept_at) VALUES ('\(stash)', '\(c.id)', 'up', 0, "
                + "'users.handle (dropped column)', (SELECT count(*) FROM \(stash)), NULL, '1970-01-01T00:00:00.000Z')",
            "CREATE TABLE _strata_new_users (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(80)\n)",
            "INSERT INTO _strata_new_users (id, name) SELECT id, name FROM users",
            "DROP TABLE users",
            "PRAGMA legacy_alter_table = ON",
            "ALTER TABLE _strata_new_users RENAME TO users",
            "PRAGMA legacy_alter_table = OFF",
        ])
    }

    /// A column added in the run holds, in the rows that were there, what
    /// it was added with: a default given to it later does not reach them,
    /// and a NOT NULL with a default replaces its NULLs, as event by event.
    func testAColumnAddedInTheRunKeepsWhatItWasAddedWith() throws {
        let dir = try TempDir()
        var start = Schema()
        start.tables["users"] = Self.users
        let nick = Column(name: "nick", type: "TEXT")
        var nickDefault = nick
        nickDefault.defaultValue = "'x'"
        var tag = Column(name: "tag", type: "TEXT")
        let a = event(nil, "nick", [.addColumn(table: "users", column: nick, position: 1)])
        let b = event(a, "nick default", [.alterColumn(table: "users", from: nick, to: nickDefault)])
        let c = event(b, "tag", [.addColumn(table: "users", column: tag, position: 3)])
        let tagged = tag
        tag.notNull = true
        tag.defaultValue = "'none'"
        let d = event(c, "tag not null", [.alterColumn(table: "users", from: tagged, to: tag)])
        // After the alter that rewrites values, more changes to the table
        // (a rename of the rewritten column, a type change): still one rebuild.
        let e = event(d, "label", [.renameColumn(table: "users", from: "tag", to: "label")])
        let name = Self.users.columns[1]
        var typed = name
        typed.type = "VARCHAR(80)"
        let f = event(e, "name type", [.alterColumn(table: "users", from: name, to: typed)])
        var results: [String] = []
        for compact in [true, false] {
            let db = try TargetDatabase(path: dir.path("\(compact).db"))
            try db.create(start)
            try db.connection.execute("INSERT INTO users (id, name) VALUES (1, 'ana'), (2, 'bo')")
            var context = MigrationContext(appliedBy: "ana", node: "n", now: 0)
            context.compact = compact
            let plan = try Migrator.plan(start: start, from: nil, to: f.id, steps: [a, b, c, d, e, f].map { MigrationStep($0, .up) }, context: context)
            XCTAssertEqual(plan.items.filter { $0.statement.sql == "DROP TABLE users" }.count, compact ? 1 : 4)
            try db.apply(plan)
            try db.connection.execute("INSERT INTO users (id, name) VALUES (3, 'cy')")
            results.append(try db.connection.query("SELECT id, name, nick, label FROM users ORDER BY id").map { $0.map { "\($0)" }.joined(separator: "|") }.joined(separator: "\n"))
            results.append(try db.connection.query("SELECT * FROM \(TrashSlots.name(event: d.id, op: 0)) ORDER BY 1").map { $0.map { "\($0)" }.joined(separator: "|") }.joined(separator: "\n"))
        }
        XCTAssertEqual(results[0], "int(1)|text(\"ana\")|null|text(\"none\")\nint(2)|text(\"bo\")|null|text(\"none\")\nint(3)|text(\"cy\")|text(\"x\")|text(\"none\")")
        XCTAssertEqual(results[1], "int(1)|null|text(\"\\'none\\'\")\nint(2)|null|text(\"\\'none\\'\")")
        XCTAssertEqual(results[0], results[2])
        XCTAssertEqual(results[1], results[3])
    }

    var stopped = 0
    var rebuiltOnce = 0
    var finalShape = 0

    func compare(seed: UInt64, steps: Int, viewsAndTriggers: Bool) throws -> (Int, Int) {
        let dir = try TempDir()
        let log = try SQLiteEventLog(path: dir.path("log.db"), create: true, snapshotInterval: 16)
        var gen = HistoryGenerator(seed: seed, viewsAndTriggers: viewsAndTriggers)
        var events: [Event] = []
        for step in 0..<steps {
            let hints = gen.step()
            let wanted = try Models.schema(fromDDL: gen.models, source: "seed \(seed) step \(step)")
            gen.schema = wanted
            let head = try log.head()
            let ops = try log.state(at: head).diff(to: wanted, renames: hints)
            guard !ops.isEmpty else { continue }
            let event = Event(parents: head.map { [$0] } ?? [], author: "gen", timestamp: Int64(step), message: "step \(step)", ops: ops)
            try log.append([event], expectedHeads: head.map { [$0] } ?? [])
            events.append(event)
        }
        let compacted = try TargetDatabase(path: dir.path("compacted.db"))
        let plain = try TargetDatabase(path: dir.path("plain.db"))
        var on = MigrationContext(appliedBy: "prop", node: "n", now: 1)
        var off = on
        off.compact = false
        on.compact = true
        var rng = SeededRandom(seed: seed &* 7919)
        var at = 0
        var rowCounter = 0
        var counts = (0, 0)
        struct Stop: Error {}
        func run(_ steps: [MigrationStep], from: String?, to: String?, what: String) throws {
            let start = try log.state(at: from)
            let a = try Migrator.plan(start: start, from: from, to: to, steps: steps, context: on)
            let b = try Migrator.plan(start: start, from: from, to: to, steps: steps, context: off)
            counts.0 += a.items.count
            counts.1 += b.items.count
            rebuiltOnce += a.items.filter { $0.statement.label.contains(" once for ") && $0.statement.label.hasSuffix(": drop the old table") }.count
            finalShape += a.items.filter { $0.statement.label.contains("(its final shape:") }.count
            // Both succeed, or both fail with the same words (the rows added
            // between chunks can make a way down impossible, e.g. MF102).
            var errorA: Error?, errorB: Error?
            do { try compacted.apply(a) } catch { errorA = error }
            do { try plain.apply(b) } catch { errorB = error }
            XCTAssertEqual(errorA.map { "\($0)" }, errorB.map { "\($0)" }, "seed \(seed) \(what)\n\(a.script)")
            if errorA != nil || errorB != nil { throw Stop() }
            XCTAssertEqual(try compacted.schema(), try plain.schema(), "seed \(seed) \(what): schema\n\(a.script)")
            let (x, y) = (try dump(compacted), try dump(plain))
            for table in Set(x.keys).union(y.keys).sorted() where x[table] != y[table] {
                XCTFail("seed \(seed) \(what): \(table) differs:\n compacted \(x[table] ?? [])\n plain     \(y[table] ?? [])\n\(a.script)")
                throw Stop()
            }
        }
        do {
        while at < events.count {
            let n = min(events.count - at, Int.random(in: 1...12, using: &rng))
            let chunk = Array(events[at..<(at + n)])
            try run(chunk.map { MigrationStep($0, .up) }, from: at == 0 ? nil : events[at - 1].id, to: chunk.last!.id, what: "up to event \(at + n)")
            at += n
            // The same rows in both, so that rebuilds and stashes have data.
            for t in try log.state(at: events[at - 1].id).tables.values.sorted(by: { $0.name < $1.name }) {
                rowCounter += 1
                let cols = t.columns.filter { c in c.name != "id" && c.generated == nil && !t.constraints.foreignKeys.contains { $0.columns.contains(c.name) } }
                let sql = cols.isEmpty ? "INSERT INTO \(DDL.q(t.name)) DEFAULT VALUES"
                    : "INSERT INTO \(DDL.q(t.name)) (\(cols.map { DDL.q($0.name) }.joined(separator: ", "))) VALUES (\(cols.map { _ in "'\(rowCounter)'" }.joined(separator: ", ")))"
                try compacted.connection.execute(sql)
                try plain.connection.execute(sql)
            }
        }
        // Down in chunks (event by event in both: the way down is not compacted).
        while at > 0 {
            let n = min(at, Int.random(in: 1...12, using: &rng))
            let chunk = events[(at - n)..<at].reversed().map { MigrationStep($0, .down) }
            try run(chunk, from: events[at - 1].id, to: at - n == 0 ? nil : events[at - n - 1].id, what: "down to event \(at - n)")
            at -= n
        }
        } catch is Stop {
            stopped += 1
        }
        return counts
    }

    /// Every table's rows (stashes and bookkeeping included), sorted.
    func dump(_ db: TargetDatabase) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        let tables = try db.connection.query("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT LIKE '%\\_content' ESCAPE '\\' AND name NOT LIKE '%\\_data' ESCAPE '\\' AND name NOT LIKE '%\\_idx' ESCAPE '\\' AND name NOT LIKE '%\\_docsize' ESCAPE '\\' AND name NOT LIKE '%\\_config' ESCAPE '\\'").compactMap { $0[0].string }
        for t in tables {
            let withoutRowid = (try db.connection.scalar("SELECT sql FROM sqlite_master WHERE name = ?", [.text(t)])?.string ?? "").uppercased().contains("WITHOUT ROWID")
            let rows = try db.connection.query("SELECT \(withoutRowid ? "" : "rowid, ")* FROM \(DDL.q(t))")
            out[t] = rows.map { $0.map { "\($0)" }.joined(separator: "|") }.sorted()
        }
        // The AUTOINCREMENT counters by table: where SQLite put each row of
        // sqlite_sequence does not count, and a counter at 0 is the same as
        // none (a table created in its final shape never had one written).
        out["sqlite_sequence"] = nil
        if try db.connection.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")?.int == 1 {
            let counters = try db.connection.query("SELECT name, seq FROM sqlite_sequence WHERE seq <> 0 ORDER BY name").map { "\($0[0])=\($0[1])" }
            if !counters.isEmpty { out["sqlite_sequence"] = counters }
        }
        return out
    }
}
