import CSQLite
import Foundation
import Strata
import Synchronization
import XCTest

/// The `Strata` library as an app uses it: bundles written by the real CLI,
/// databases migrated through the public API only.
final class LibraryTests: XCTestCase {
    /// A project with v1 (users) and v2 (users.nick, notes), and a bundle of each.
    func twoVersions() throws -> (cli: CLI, v1: String, v2: String) {
        let cli = try CLI()
        cli.env["STRATA_NOW"] = "2026-01-02T03:04:05.000Z"
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n")
        try cli.ok("revision", "--autogenerate", "-m", "v1")
        let b1 = try cli.ok("bundle", "--out", "v1.strata")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, nick TEXT);\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n")
        try cli.ok("revision", "--autogenerate", "-m", "v2")
        try cli.ok("bundle", "--out", "v2.strata")
        let ids = try cli.ok("history", "--json").stdout
        let all = try JSONSerialization.jsonObject(with: Data(ids.utf8)) as? [[String: Any]] ?? []
        let byMessage = Dictionary(all.compactMap { e in (e["message"] as? String).flatMap { m in (e["id"] as? String).map { (m, $0) } } }, uniquingKeysWith: { a, _ in a })
        let (v1, v2) = (try XCTUnwrap(byMessage["v1"]), try XCTUnwrap(byMessage["v2"]))
        XCTAssertEqual(b1.stdout, "\(cli.path("v1.strata")): 1 event up to \(v1.prefix(12)), \(try Data(contentsOf: URL(fileURLWithPath: cli.path("v1.strata"))).count) bytes\n")
        return (cli, v1, v2)
    }

    /// A new key pair's public key, as `strata keys generate` prints it.
    static func publicKey(of cli: CLI, _ file: String) throws -> String {
        try cli.ok("keys", "generate", "--out", file).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func history(_ cli: CLI, _ name: String, trustedKeys: [String]? = nil) throws -> SchemaHistory {
        try SchemaHistory(contentsOf: URL(fileURLWithPath: cli.path(name)), trustedKeys: trustedKeys)
    }

    /// v2 -> v1 -> v2: the older bundle walks the database down with the
    /// database's own events, and the newer one brings back every row of
    /// what v2 alone has.
    func testAnOlderBuildGoesDownAndTheNewerBringsItsDataBack() throws {
        let (cli, v1, v2) = try twoVersions()
        let db = cli.path("app.db")
        let newer = SchemaMigrator(history: try history(cli, "v2.strata"))
        let older = SchemaMigrator(history: try history(cli, "v1.strata"))
        XCTAssertEqual(newer.history.head, v2)
        XCTAssertEqual(newer.history.events.map(\.message), ["v1", "v2"])

        let first = try newer.migrate(databaseAt: db, appliedBy: "app 2.0", node: "phone")
        XCTAssertEqual(first.from, nil)
        XCTAssertEqual(first.to, v2)
        XCTAssertEqual(first.applied.map(\.id), [v1, v2])
        XCTAssertEqual(first.status, .complete)
        _ = try cli.sqlite("app.db", "INSERT INTO users VALUES (1, 'ana', 'an'), (2, 'bo', NULL); INSERT INTO notes VALUES (7, 'hello')")

        XCTAssertThrowsError(try older.migrate(databaseAt: db)) { error in
            XCTAssertEqual(error as? MigratorError, .ahead(database: v2, target: v1))
            XCTAssertEqual((error as? MigratorError)?.errorCode, "migrate.ahead")
        }
        let left = try older.migrate(databaseAt: db, ifAhead: .leave)
        XCTAssertEqual(left.status, .leftAhead)
        XCTAssertEqual(left.to, v2)
        XCTAssertNil(try older.plan(databaseAt: db, ifAhead: .leave), "nothing to run when the database is left ahead")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT revision FROM strata_version"), v2, "refused and left: untouched")

        let down = try older.migrate(databaseAt: db, ifAhead: .downgrade, appliedBy: "app 1.0", node: "phone")
        XCTAssertEqual(down.from, v2)
        XCTAssertEqual(down.to, v1)
        XCTAssertEqual(down.applied, [])
        XCTAssertEqual(down.undone.map(\.message), ["v2"])
        XCTAssertEqual(down.kept, ["2 rows of users.nick (dropped column)", "1 row of table notes (dropped)"])
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT group_concat(name, ',') FROM pragma_table_info('users')"), "id,name")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*) FROM sqlite_master WHERE name = 'notes'"), "0")
        XCTAssertNil(try older.drift(databaseAt: db))

        let up = try newer.migrate(databaseAt: db, appliedBy: "app 2.0", node: "phone")
        XCTAssertEqual(up.applied.map(\.message), ["v2"])
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT id, name, nick FROM users ORDER BY id"), "1|ana|an\n2|bo|")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT * FROM notes"), "7|hello")
        XCTAssertNil(try newer.drift(databaseAt: db))
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT direction, applied_by, node FROM strata_history ORDER BY seq"),
                       "up|app 2.0|phone\nup|app 2.0|phone\ndown|app 1.0|phone\nup|app 2.0|phone")
        // The CLI reads what the library wrote.
        XCTAssertEqual(try cli.ok("check").status, 0)
    }

    func testPlanIsADryRunAndDriftNamesTheDifference() throws {
        let (cli, v1, v2) = try twoVersions()
        let migrator = SchemaMigrator(history: try history(cli, "v2.strata"))
        let fresh = cli.path("fresh.db")
        let script = try XCTUnwrap(try migrator.plan(databaseAt: fresh)).script
        XCTAssertTrue(script.hasPrefix("-- strata: base -> \(v2)\nPRAGMA foreign_keys = OFF;\nBEGIN IMMEDIATE;\n"), script)
        XCTAssertTrue(script.contains("\n-- event \(v1)\n") && script.hasSuffix("PRAGMA foreign_key_check;\nCOMMIT;\n"), script)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh), "a plan creates no file")
        // The statements the CLI would run, but for who and when (the history rows).
        func statements(_ script: String?) -> [Substring] {
            (script ?? "").split(separator: "\n").filter { !$0.hasPrefix("INSERT INTO strata_history") && !$0.hasPrefix("INSERT INTO strata_version") }
        }
        XCTAssertEqual(statements(script), statements(try cli.ok("upgrade", "head", "--db", "fresh.db", "--sql").stdout))

        try migrator.migrate(databaseAt: fresh)
        XCTAssertNil(try migrator.plan(databaseAt: fresh))
        XCTAssertNil(try migrator.drift(databaseAt: fresh))
        _ = try cli.sqlite("fresh.db", "ALTER TABLE users ADD COLUMN age INTEGER")
        let drift = try migrator.drift(databaseAt: fresh)
        XCTAssertEqual(drift?.revision, v2)
        XCTAssertEqual(drift?.changes, ["add column users.age INTEGER"])
        XCTAssertThrowsError(try migrator.drift(databaseAt: cli.path("none.db"))) { XCTAssertEqual($0 as? MigratorError, .noDatabase(cli.path("none.db"))) }
        XCTAssertThrowsError(try migrator.migrate(databaseAt: fresh, to: .base)) { XCTAssertEqual($0 as? MigratorError, .ahead(database: v2, target: nil)) }
        XCTAssertThrowsError(try migrator.migrate(databaseAt: fresh, to: .base, ifAhead: .downgrade)) { error in
            XCTAssertEqual((error as? CodedError)?.errorCode, "database.drifted", "a code the app can match, from a type inside the package")
            XCTAssertEqual("\(error)".components(separatedBy: " (").first, "database \(fresh) has drifted from its recorded revision \(v2.prefix(12))")
        }
    }

    /// Events that each rebuild a table of 100,000 rows, under a budget of
    /// 1 ms: the run stops after the first event (the budget ran out during
    /// it), the database consistent there, and the next call finishes.
    func testABudgetStopsAtTheNextEventAndTheNextCallGoesOn() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        var ids: [String] = []
        for (n, type) in ["TEXT", "BLOB", "TEXT", "BLOB"].enumerated() {
            try cli.write("models.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b \(type));\n")
            ids.append(String(try cli.ok("revision", "--autogenerate", "-m", "e\(n + 1)").lines[0].prefix(12)))
        }
        try cli.ok("bundle", "--out", "app.strata")
        let migrator = SchemaMigrator(history: try history(cli, "app.strata"))
        let db = cli.path("app.db")
        let e1 = try migrator.migrate(databaseAt: db, to: .revision(ids[0]))
        XCTAssertEqual(e1.to?.prefix(12), Substring(ids[0]))
        _ = try cli.sqlite("app.db", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) INSERT INTO t SELECT i, 'row ' || i, i FROM n")

        var seen: [String] = []
        let stopped = try migrator.migrate(databaseAt: db, budget: .milliseconds(1)) { seen.append("\($0.event.message) \($0.done)/\($0.total)") }
        XCTAssertEqual(seen, ["e2 1/3"])
        XCTAssertEqual(stopped.applied.map(\.message), ["e2"])
        XCTAssertEqual(stopped.to?.prefix(12), Substring(ids[1]))
        guard case .incomplete(let remaining) = stopped.status else { return XCTFail("\(stopped.status)") }
        XCTAssertEqual(remaining.map(\.message), ["e3", "e4"])
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT revision FROM strata_version").prefix(12), Substring(ids[1]))
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT type FROM pragma_table_info('t') WHERE name = 'b'"), "BLOB")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*), sum(id) FROM t"), "100000|5000050000")
        XCTAssertNil(try migrator.drift(databaseAt: db), "consistent at the event it stopped after")

        seen = []
        let rest = try migrator.migrate(databaseAt: db, budget: .seconds(3600)) { seen.append("\($0.event.message) \($0.done)/\($0.total)") }
        XCTAssertEqual(seen, ["e3 1/2", "e4 2/2"])
        XCTAssertEqual(rest.status, .complete)
        XCTAssertEqual(rest.applied.map(\.message), ["e3", "e4"])
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*), sum(id) FROM t"), "100000|5000050000")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*) FROM strata_history"), "4")
        XCTAssertNil(try migrator.drift(databaseAt: db))
    }

    /// A budget on the way down too: an older build walking a newer
    /// database back stops after the first event walked back, consistent
    /// there, and the next launch finishes the walk.
    func testABudgetAlsoStopsAWalkDown() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        var ids: [String] = []
        for (n, ddl) in ["CREATE TABLE a (id INTEGER PRIMARY KEY);", "CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT);",
                         "CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT);\nCREATE TABLE b (id INTEGER PRIMARY KEY);",
                         "CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT, y TEXT);\nCREATE TABLE b (id INTEGER PRIMARY KEY);"].enumerated() {
            try cli.write("models.sql", ddl + "\n")
            ids.append(String(try cli.ok("revision", "--autogenerate", "-m", "e\(n + 1)").lines[0].prefix(12)))
            if n == 0 { try cli.ok("bundle", "--out", "old.strata") }
        }
        try cli.ok("bundle", "--out", "new.strata")
        let db = cli.path("app.db")
        try SchemaMigrator(history: try history(cli, "new.strata")).migrate(databaseAt: db)
        _ = try cli.sqlite("app.db", "INSERT INTO a VALUES (1, 'x1', 'y1'); INSERT INTO b VALUES (5)")
        let older = SchemaMigrator(history: try history(cli, "old.strata"))
        let first = try older.migrate(databaseAt: db, ifAhead: .downgrade, budget: .zero)
        XCTAssertEqual(first.undone.map(\.message), ["e4"])
        XCTAssertEqual(first.to?.prefix(12), Substring(ids[2]))
        guard case .incomplete(let remaining) = first.status else { return XCTFail("\(first.status)") }
        XCTAssertEqual(remaining.map(\.message), ["e3", "e2"])
        XCTAssertNil(try older.drift(databaseAt: db), "consistent at e3")
        let rest = try older.migrate(databaseAt: db, ifAhead: .downgrade)
        XCTAssertEqual(rest.undone.map(\.message), ["e3", "e2"])
        XCTAssertEqual(rest.to?.prefix(12), Substring(ids[0]))
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT * FROM a"), "1")
        // The newer build brings every value back.
        try SchemaMigrator(history: try history(cli, "new.strata")).migrate(databaseAt: db)
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT * FROM a; SELECT * FROM b"), "1|x1|y1\n5")
    }

    /// v2 dropped a NOT NULL column and inserted rows: the older build's way
    /// back has no value for them. It refuses with a code the app can match,
    /// and goes back with `fill`.
    func testAWalkDownOverRowsWithNothingKeptNeedsAFill() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b TEXT);\n")
        try cli.ok("revision", "--autogenerate", "-m", "v1")
        try cli.ok("bundle", "--out", "v1.strata")
        try cli.write("models.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT);\n")
        let v2 = String(try cli.ok("revision", "--autogenerate", "-m", "v2").lines[0].prefix(12))
        try cli.ok("bundle", "--out", "v2.strata")
        let db = cli.path("app.db")
        try SchemaMigrator(history: try history(cli, "v1.strata")).migrate(databaseAt: db)
        _ = try cli.sqlite("app.db", "INSERT INTO t VALUES (1, 'kept', 'x')")
        try SchemaMigrator(history: try history(cli, "v2.strata")).migrate(databaseAt: db)
        _ = try cli.sqlite("app.db", "INSERT INTO t (id, b) VALUES (2, 'new')")
        var older = SchemaMigrator(history: try history(cli, "v1.strata"))
        XCTAssertThrowsError(try older.migrate(databaseAt: db, ifAhead: .downgrade)) { error in
            XCTAssertEqual((error as? CodedError)?.errorCode, "migration.unfilled")
            XCTAssertTrue("\(error)".hasPrefix("downgrade failed at event \(v2): column t.a is NOT NULL without a default, and nothing was kept of it for 1 row of t"), "\(error)")
        }
        older.fill = "'unknown'"
        try older.migrate(databaseAt: db, ifAhead: .downgrade)
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT id, a, b FROM t ORDER BY id"), "1|kept|x\n2|unknown|new")
    }

    /// One history and one migrator, shared by threads that each migrate
    /// their own database (an app's workers, a server's tenants).
    func testOneMigratorServesManyThreads() throws {
        let (cli, _, v2) = try twoVersions()
        let migrator = SchemaMigrator(history: try history(cli, "v2.strata"))
        let results = Mutex<[Int: String]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { n in
            let outcome = Result { try migrator.migrate(databaseAt: cli.path("t\(n).db")).to ?? "base" }
            results.withLock { $0[n] = (try? outcome.get()) ?? "\(outcome)" }
        }
        XCTAssertEqual(results.withLock { $0 }, Dictionary(uniqueKeysWithValues: (0..<8).map { ($0, v2) }))
    }

    /// An app's own connection: strata migrates on it and leaves it open.
    func testAnOpenConnectionIsMigratedAndStaysTheApps() throws {
        let (cli, _, v2) = try twoVersions()
        var handle: OpaquePointer?
        XCTAssertEqual(sqlite3_open(cli.path("own.db"), &handle), SQLITE_OK)
        defer { sqlite3_close(handle) }
        let result = try SchemaMigrator(history: try history(cli, "v2.strata")).migrate(connection: try XCTUnwrap(handle))
        XCTAssertEqual(result.to, v2)
        XCTAssertEqual(sqlite3_exec(handle, "INSERT INTO notes VALUES (1, 'still open')", nil, nil, nil), SQLITE_OK)
        XCTAssertEqual(try cli.sqlite("own.db", "SELECT body FROM notes"), "still open")
    }

    /// A database another tool made (GRDB's migrator, say) is adopted by a
    /// stamp that first checks its schema, then migrates from there.
    func testAStampAdoptsADatabaseWhoseSchemaIsTheBaseline() throws {
        let (cli, v1, v2) = try twoVersions()
        let migrator = SchemaMigrator(history: try history(cli, "v2.strata"))
        _ = try cli.sqlite("grdb.db", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO users VALUES (1, 'ana')")
        _ = try cli.sqlite("other.db", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        XCTAssertNil(try migrator.revision(ofDatabaseAt: cli.path("grdb.db")))
        XCTAssertThrowsError(try migrator.stamp(databaseAt: cli.path("other.db"), at: .revision(v1))) { error in
            XCTAssertEqual(error as? MigratorError, .schemaDiffers(revision: v1, changes: ["alter column users.name: drop NOT NULL"]))
            XCTAssertEqual("\(error)", "the database's schema is not the state at \(v1.prefix(12)) (alter column users.name: drop NOT NULL), so nothing was stamped")
        }
        XCTAssertEqual(try cli.sqlite("other.db", "SELECT count(*) FROM sqlite_master WHERE name LIKE 'strata_%'"), "0", "a refused stamp writes nothing")

        try migrator.stamp(databaseAt: cli.path("grdb.db"), at: .revision(v1), appliedBy: "app 1.1")
        XCTAssertEqual(try migrator.revision(ofDatabaseAt: cli.path("grdb.db")), v1)
        XCTAssertThrowsError(try migrator.stamp(databaseAt: cli.path("grdb.db"), at: .revision(v1))) {
            XCTAssertEqual($0 as? MigratorError, .alreadyStamped(v1))
        }
        let up = try migrator.migrate(databaseAt: cli.path("grdb.db"))
        XCTAssertEqual(up.applied.map(\.id), [v2])
        XCTAssertEqual(try cli.sqlite("grdb.db", "SELECT direction, applied_by FROM strata_history ORDER BY seq"), "stamp|app 1.1\nup|app")
        XCTAssertEqual(try cli.sqlite("grdb.db", "SELECT * FROM users"), "1|ana|")
    }

    /// `--at` bundles an older revision; a revision the log does not hold
    /// is refused with exit 2 and no file.
    func testBundleAtARevisionAndBadInput() throws {
        let (cli, v1, v2) = try twoVersions()
        try cli.ok("bundle", "--at", String(v1.prefix(8)), "--out", "at.strata")
        let at = try history(cli, "at.strata")
        XCTAssertEqual(at.head, v1)
        XCTAssertEqual(at.events.map(\.id), [v1])
        XCTAssertEqual(try history(cli, "v2.strata").events.map(\.id), [v1, v2])

        let unknown = try cli.run("bundle", "--at", "abcdef12", "--out", "bad.strata")
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.stderr, "error: no revision starts with abcdef12 in the local log (see `strata history`)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cli.path("bad.strata")))
        let noDir = try cli.run("bundle", "--out", "missing/dir/x.strata")
        XCTAssertEqual(noDir.status, 2)
        XCTAssertTrue(noDir.stderr.hasPrefix("error: cannot write \(cli.path("missing/dir/x.strata")): "), noDir.stderr)
        XCTAssertThrowsError(try history(cli, "none.strata")) { error in
            guard case .unreadable(let path, _)? = error as? BundleError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, cli.path("none.strata"))
            XCTAssertEqual((error as? CodedError)?.errorCode, "bundle.unreadable")
        }
    }

    func testABundleIsVerifiedWhenOpened() throws {
        let (cli, v1, _) = try twoVersions()
        let text = try cli.read("v1.strata")
        try cli.write("edited.strata", text.replacingOccurrences(of: "\"message\":\"v1\"", with: "\"message\":\"v9\""))
        XCTAssertThrowsError(try history(cli, "edited.strata")) { error in
            guard case .invalidEvent(0, let why)? = error as? BundleError else { return XCTFail("\(error)") }
            XCTAssertTrue(why.hasPrefix("its id \(v1.prefix(12)) is not the SHA-256 of its contents"), why)
        }
        try cli.write("other.strata", "{\"format\":\"something-else\"}")
        XCTAssertThrowsError(try history(cli, "other.strata")) {
            XCTAssertEqual("\($0)", "not a strata bundle: it has no \"format\": \"strata-bundle\"")
        }
        XCTAssertThrowsError(try history(cli, "v1.strata", trustedKeys: ["ed25519:nope"])) {
            XCTAssertEqual($0 as? BundleError, .badKey("ed25519:nope"))
        }
        XCTAssertThrowsError(try history(cli, "v1.strata", trustedKeys: [try Self.publicKey(of: cli, "k.key")])) {
            XCTAssertEqual($0 as? BundleError, .untrusted(id: v1, "is not signed"))
        }
        // Signed events: trusted by their key, refused by another.
        let signing = try CLI()
        let key = try Self.publicKey(of: signing, "signing.key"), otherKey = try Self.publicKey(of: signing, "other.key")
        try signing.ok("init", "--models", "models.sql", "--db", "app.db")
        try signing.write("strata.toml", try signing.read("strata.toml") + "signing_key = \"signing.key\"\n")
        try signing.write("models.sql", "CREATE TABLE tags (id INTEGER PRIMARY KEY);\n")
        let id = String(try signing.ok("revision", "--autogenerate", "-m", "signed").lines[0].prefix(12))
        try signing.ok("bundle", "--out", "signed.strata")
        let signed = try history(signing, "signed.strata", trustedKeys: [otherKey, key])
        XCTAssertEqual(signed.events.map(\.signedBy), [key])
        XCTAssertThrowsError(try history(signing, "signed.strata", trustedKeys: [otherKey])) { error in
            guard case .untrusted(let refused, let why)? = error as? BundleError else { return XCTFail("\(error)") }
            XCTAssertEqual(refused.prefix(12), Substring(id))
            XCTAssertEqual(why, "is signed by \(key), which is not a trusted key")
        }
    }
}
