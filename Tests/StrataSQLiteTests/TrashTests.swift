import StrataCore
import StrataSQLite
import StrataStore
import StrataTestSupport
import XCTest

/// Lossless downgrades: what an upgrade destroys is kept in the database
/// (`strata_trash`) and the downgrade brings it back, matched by primary key
/// (rowid without one).
final class TrashTests: XCTestCase {
    let context = MigrationContext(appliedBy: "test", node: "n1", now: 1_764_000_000_000)
    /// Kept for the test's length (a TempDir removes its folder when released).
    var dirs: [TempDir] = []

    func models(_ ddl: String) throws -> Schema { try Models.schema(fromDDL: ddl, source: "test") }

    /// A database at v1 (with `rows` inserted), and the event from v1 to v2.
    func setUp(_ v1: String, rows: String, _ v2: String) throws -> (TargetDatabase, Event, Event, Schema, Schema) {
        let dir = try TempDir()
        dirs.append(dir)
        let db = try TargetDatabase(path: dir.path("a.db"))
        let s1 = try models(v1), s2 = try models(v2)
        let e1 = Event(parents: [], author: "t", timestamp: 1, message: "v1", ops: try Schema.empty.diff(to: s1))
        try db.apply(try Migrator.plan(start: .empty, from: nil, to: e1.id, steps: [MigrationStep(e1, .up)], context: context))
        try db.connection.execute(rows)
        let e2 = Event(parents: [e1.id], author: "t", timestamp: 2, message: "v2", ops: try s1.diff(to: s2))
        return (db, e1, e2, s1, s2)
    }

    func up(_ db: TargetDatabase, _ e1: Event, _ e2: Event, _ s1: Schema, context: MigrationContext? = nil) throws -> TrashReport {
        try db.apply(try Migrator.plan(start: s1, from: e1.id, to: e2.id, steps: [MigrationStep(e2, .up)], context: context ?? self.context))
    }

    func down(_ db: TargetDatabase, _ e1: Event, _ e2: Event, _ s2: Schema, context: MigrationContext? = nil) throws -> TrashReport {
        try db.apply(try Migrator.plan(start: s2, from: e2.id, to: e1.id, steps: [MigrationStep(e2, .down)], context: context ?? self.context))
    }

    func rows(_ db: TargetDatabase, _ sql: String) throws -> [String] {
        try db.connection.query(sql).map { $0.map { $0.string ?? "NULL" }.joined(separator: "|") }
    }

    func testADroppedColumnComesBackRowByRow() throws {
        let (db, e1, e2, s1, s2) = try setUp(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, nick TEXT NOT NULL);",
            rows: "INSERT INTO users VALUES (1, 'ana', 'a'), (2, 'bo', 'b'), (3, 'cy', 'c')",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);")
        let kept = try up(db, e1, e2, s1)
        XCTAssertEqual(kept.kept, [TrashReport.Kept(what: "users.nick (dropped column)", rows: 3, event: e2.id)])
        XCTAssertEqual(try db.stashes().map { "\($0.stash) \($0.what) \($0.rows)" }, ["strata_trash_\(e2.id.prefix(16))_u0 users.nick (dropped column) 3"])
        // After the upgrade: row 2 deleted, row 3 deleted and its key reused by a new row, row 4 new.
        try db.connection.execute("DELETE FROM users WHERE id IN (2, 3); INSERT INTO users VALUES (3, 'dee'), (4, 'eve')")
        var withFill = context
        withFill.fill = "'?'"
        let back = try down(db, e1, e2, s2, context: withFill)
        XCTAssertEqual(back.notKept, [])
        XCTAssertEqual(try db.schema(), s1)
        // Matched by key: row 1 gets its value, the new row 3 gets the old row 3's (its key), row 4 the --fill.
        XCTAssertEqual(try rows(db, "SELECT id, name, nick FROM users ORDER BY id"), ["1|ana|a", "3|dee|c", "4|eve|?"])
        XCTAssertEqual(try db.stashes(), [], "the stash is consumed")
        XCTAssertEqual(try db.connection.scalar("SELECT count(*) FROM sqlite_master WHERE name LIKE 'strata_trash_%'")?.int, 0)
    }

    func testADroppedTableComesBackWithItsRowidsAndCounter() throws {
        let (db, e1, e2, s1, s2) = try setUp(
            "CREATE TABLE notes (body TEXT); CREATE TABLE tags (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);",
            rows: "INSERT INTO notes (rowid, body) VALUES (5, 'five'), (9, 'nine'); INSERT INTO tags (name) VALUES ('a'), ('b'), ('c'); DELETE FROM tags WHERE id = 3",
            "")
        _ = try up(db, e1, e2, s1)
        XCTAssertEqual(try db.schema(), .empty)
        XCTAssertEqual(try db.stashes().map(\.rows).sorted(), [2, 2])
        _ = try down(db, e1, e2, s2)
        XCTAssertEqual(try db.schema(), s1)
        XCTAssertEqual(try rows(db, "SELECT rowid, body FROM notes ORDER BY rowid"), ["5|five", "9|nine"])
        XCTAssertEqual(try rows(db, "SELECT id, name FROM tags ORDER BY id"), ["1|a", "2|b"])
        // AUTOINCREMENT never reuses 3, as before the drop.
        try db.connection.execute("INSERT INTO tags (name) VALUES ('d')")
        XCTAssertEqual(try rows(db, "SELECT id FROM tags WHERE name = 'd'"), ["4"])
    }

    func testValuesAnAlterRewroteComeBackUnlessChangedSince() throws {
        let (db, e1, e2, s1, s2) = try setUp(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT, code TEXT);",
            rows: "INSERT INTO t VALUES (1, NULL, '007'), (2, 'b@x', 'x1'), (3, NULL, '010')",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT NOT NULL DEFAULT '', code INTEGER);")
        let kept = try up(db, e1, e2, s1)
        XCTAssertEqual(kept.kept.map(\.what), ["t.email (values the alter rewrote)", "t.code (values the alter rewrote)"])
        XCTAssertEqual(kept.kept.map(\.rows), [2, 2], "only the rows whose value changed: NULL -> '', '007' -> 7")
        XCTAssertEqual(try rows(db, "SELECT quote(email), quote(code) FROM t ORDER BY id"), ["''|7", "'b@x'|'x1'", "''|10"])
        // Row 3 is edited after the upgrade: its new values stay.
        try db.connection.execute("UPDATE t SET email = 'c@x', code = 11 WHERE id = 3")
        _ = try down(db, e1, e2, s2)
        XCTAssertEqual(try db.schema(), s1)
        XCTAssertEqual(try rows(db, "SELECT quote(email), quote(code) FROM t ORDER BY id"), ["NULL|'007'", "'b@x'|'x1'", "'c@x'|'11'"])
    }

    func testWithoutAPrimaryKeyRowsAreMatchedByRowid() throws {
        let (db, e1, e2, s1, s2) = try setUp(
            "CREATE TABLE log (at TEXT, what TEXT, extra TEXT) STRICT;",
            rows: "INSERT INTO log (rowid, at, what, extra) VALUES (10, 't1', 'a', 'x'), (20, 't2', 'b', 'y')",
            "CREATE TABLE log (at TEXT, what TEXT) STRICT;")
        _ = try up(db, e1, e2, s1)
        _ = try down(db, e1, e2, s2)
        XCTAssertEqual(try rows(db, "SELECT rowid, at, what, extra FROM log ORDER BY rowid"), ["10|t1|a|x", "20|t2|b|y"])
    }

    func testAPrimaryKeyThatIsNotTheRowidMatchesRows() throws {
        let (db, e1, e2, s1, s2) = try setUp(
            "CREATE TABLE p (code TEXT PRIMARY KEY, n INTEGER, gone TEXT); CREATE TABLE w (a TEXT, b TEXT, gone TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;",
            rows: "INSERT INTO p VALUES ('x', 1, 'gx'), ('y', 2, 'gy'); INSERT INTO w VALUES ('a', 'b', 'g1'), ('a', 'c', 'g2')",
            "CREATE TABLE p (code TEXT PRIMARY KEY, n INTEGER); CREATE TABLE w (a TEXT, b TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;")
        _ = try up(db, e1, e2, s1)
        // VACUUM may renumber the rowids of a table whose key is not the rowid: the key still matches.
        try db.connection.execute("DELETE FROM p WHERE code = 'x'; INSERT INTO p VALUES ('x', 3); VACUUM")
        _ = try down(db, e1, e2, s2)
        XCTAssertEqual(try rows(db, "SELECT code, n, gone FROM p ORDER BY code"), ["x|3|gx", "y|2|gy"])
        XCTAssertEqual(try rows(db, "SELECT a, b, gone FROM w ORDER BY b"), ["a|b|g1", "a|c|g2"])
    }

    func testALaterUpgradeReplacesTheStash() throws {
        let (db, e1, e2, s1, s2) = try setUp(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, gone TEXT);", rows: "INSERT INTO t VALUES (1, 'old')",
            "CREATE TABLE t (id INTEGER PRIMARY KEY);")
        _ = try up(db, e1, e2, s1)
        _ = try down(db, e1, e2, s2)
        try db.connection.execute("UPDATE t SET gone = 'new'")
        _ = try up(db, e1, e2, s1)
        XCTAssertEqual(try db.stashes().map(\.rows), [1])
        _ = try down(db, e1, e2, s2)
        XCTAssertEqual(try rows(db, "SELECT gone FROM t"), ["new"])
    }

    func testWithKeepingOffNothingIsKeptAndTheDowngradeSaysSo() throws {
        let (db, e1, e2, s1, s2) = try setUp(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, gone TEXT);", rows: "INSERT INTO t VALUES (1, 'old')",
            "CREATE TABLE t (id INTEGER PRIMARY KEY);")
        var off = context
        off.keepDroppedData = false
        XCTAssertEqual(try up(db, e1, e2, s1, context: off), TrashReport())
        XCTAssertEqual(try db.connection.scalar("SELECT count(*) FROM sqlite_master WHERE name LIKE 'strata_trash_%'")?.int, 0)
        let back = try down(db, e1, e2, s2)
        XCTAssertEqual(back.notKept, ["t.gone"])
        XCTAssertEqual(try rows(db, "SELECT id, gone FROM t"), ["1|NULL"])
    }

    func testPurgeDropsWhatAnEventKept() throws {
        let (db, e1, e2, s1, s2) = try setUp(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, gone TEXT NOT NULL);", rows: "INSERT INTO t VALUES (1, 'secret')",
            "CREATE TABLE t (id INTEGER PRIMARY KEY);")
        _ = try up(db, e1, e2, s1)
        XCTAssertEqual(try db.purgeTrash(event: e2.id).map(\.rows), [1])
        XCTAssertEqual(try db.stashes(), [])
        XCTAssertEqual(try db.connection.scalar("SELECT count(*) FROM sqlite_master WHERE name LIKE 'strata_trash_%'")?.int, 0)
        XCTAssertThrowsError(try down(db, e1, e2, s2), "the NOT NULL column has nothing to come back with")
        var withFill = context
        withFill.fill = "'gone'"
        XCTAssertEqual(try down(db, e1, e2, s2, context: withFill).notKept, ["t.gone"])
        XCTAssertEqual(try rows(db, "SELECT gone FROM t"), ["gone"])
    }

    /// The law the stash exists for, on random histories with random rows
    /// (text that looks like numbers, reals, blobs, NULLs): after any
    /// upgrade, the downgrade of that event gives back exactly the rows and
    /// values there were before it, and the upgrade again gives the same
    /// as the first time.
    func testUpThenDownGivesBackEveryValue() throws {
        for seed: UInt64 in [3, 4] {
            let dir = try TempDir()
            let db = try TargetDatabase(path: dir.path("app.db"))
            var gen = HistoryGenerator(seed: seed)
            var rng = SeededRandom(seed: seed &* 7919)
            var state = Schema.empty
            var parent: String?
            var n = 0
            var destructive = 0
            for step in 0..<80 {
                let hints = gen.step()
                let wanted = try Models.schema(fromDDL: gen.models, source: "seed \(seed) step \(step)")
                gen.schema = wanted
                let ops = try state.diff(to: wanted, renames: hints)
                guard !ops.isEmpty else { continue }
                let e = Event(parents: parent.map { [$0] } ?? [], author: "gen", timestamp: Int64(step), message: "step \(step)", ops: ops)
                let before = try dump(db, state)
                let upPlan = try Migrator.plan(start: state, from: parent, to: e.id, steps: [MigrationStep(e, .up)], context: context)
                let kept = try db.apply(upPlan)
                if !kept.kept.isEmpty { destructive += 1 }
                let after = try dump(db, wanted)
                try db.apply(try Migrator.plan(start: wanted, from: e.id, to: parent, steps: [MigrationStep(e, .down)], context: context))
                XCTAssertEqual(try dump(db, state), before, "seed \(seed) step \(step): \(ops.map(\.summary))")
                try db.apply(upPlan)
                XCTAssertEqual(try dump(db, wanted), after, "seed \(seed) step \(step) again: \(ops.map(\.summary))")
                state = wanted
                parent = e.id
                // Rows with values that affinity changes rewrite.
                for t in wanted.tables.values {
                    for _ in 0..<2 {
                        n += 1
                        let cols = t.columns.filter { c in c.name != "id" && c.generated == nil && !t.constraints.foreignKeys.contains { $0.columns.contains(c.name) } }
                        let values = cols.map { c -> String in
                            let pool = ["'00\(n)'", "\(n).5", "X'0\(n % 10)'", "'v\(n)'", "\(n)"] + (c.notNull ? [] : ["NULL"])
                            return pool[Int.random(in: 0..<pool.count, using: &rng)]
                        }
                        let sql = cols.isEmpty ? "INSERT INTO \(DDL.q(t.name)) DEFAULT VALUES"
                            : "INSERT INTO \(DDL.q(t.name)) (\(cols.map { DDL.q($0.name) }.joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))"
                        // A CHECK of the generated schema may refuse a value: that row is simply not there.
                        try? db.connection.execute(sql)
                    }
                }
            }
            XCTAssertGreaterThan(destructive, 5, "seed \(seed): the history destroys data often enough to test keeping it")
        }
    }

    /// Every table's rows, every value quoted (so '007' and 7 differ), in key order.
    func dump(_ db: TargetDatabase, _ schema: Schema) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for t in schema.tables.values {
            let key = t.constraints.withoutRowid ? t.constraints.primaryKey.map(DDL.q).joined(separator: ", ") : "rowid"
            let values = ((t.constraints.withoutRowid ? [] : ["rowid"]) + t.columns.map { DDL.q($0.name) }).map { "quote(\($0))" }
            out[t.name] = try db.connection.query("SELECT \(values.joined(separator: " || '|' || ")) FROM \(DDL.q(t.name)) ORDER BY \(key)").map { $0[0].string ?? "" }
        }
        return out
    }
}
