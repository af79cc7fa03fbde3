import Foundation
import StrataSQLite
import XCTest

/// The seed workflow (Alembic's tutorial, one to one) on the real binary.
final class WorkflowTests: XCTestCase {
    static let users = """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name VARCHAR(50),
            email VARCHAR(120)
        );
        CREATE UNIQUE INDEX ix_users_email ON users (email);

        """

    /// Every read command takes --json and prints one JSON document.
    /// A data step is an event: it runs in the upgrade's transaction, in
    /// order with schema changes; its reverse runs on the way down; one
    /// without a reverse stops a downgrade unless told to pass it.
    /// `--version` names the SQLite inside: the release build (the wheel,
    /// the .deb) links Debian's libsqlite3.a, a debug build loads the system's.
    func testTheVersionNamesTheSQLiteItRuns() throws {
        let cli = try CLI()
        let version = try cli.ok("--version").stdout
        let ldd = Process()
        ldd.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        ldd.arguments = [CLI.binary.path]
        let loaded = String(decoding: try CLI.finish(ldd).stdout, as: UTF8.self)
        let sqlite = Connection.libraryVersion
        if let line = loaded.split(separator: "\n").first(where: { $0.contains("libsqlite3") }) {
            let resolved = URL(fileURLWithPath: String(line.split(separator: " ")[2])).resolvingSymlinksInPath().path
            XCTAssertEqual(version, "0.1.0 (SQLite \(sqlite) from \(resolved))\n")
        } else {
            XCTAssertEqual(version, "0.1.0 (SQLite \(sqlite), linked in)\n")
        }
    }

    func testDataStepsAreEvents() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.ok("revision", "-m", "users", "--sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT);")
        try cli.ok("upgrade", "head")
        _ = try cli.sqlite("app.db", "INSERT INTO users (name, email) VALUES ('ana', NULL), (NULL, 'b@x')")
        let backfill = try cli.ok("revision", "-m", "backfill names", "--exec", "UPDATE users SET name = 'anonymous' WHERE name IS NULL",
                                  "--reverse", "UPDATE users SET name = NULL WHERE name = 'anonymous'")
        XCTAssertEqual(backfill.lines.dropFirst(), ["  data step: UPDATE users SET name = 'anonymous' WHERE name IS NULL"])
        let recorded = try cli.ok("revision", "-m", "lowercase", "--exec", "UPDATE users SET email = lower(email);")
        let lower = recorded.lines[0]
        XCTAssertEqual(recorded.stderr, "warning: IR101 (\(lower.prefix(12)), op 1): the data step `UPDATE users SET email = lower(email)` has no reverse SQL: "
            + "a downgrade past it needs --allow-irreversible\n")
        XCTAssertEqual(try cli.ok("show", String(lower.prefix(8))).stdout.components(separatedBy: "\n").filter { $0.contains("data step") },
                       ["  data step: UPDATE users SET email = lower(email) (irreversible: no reverse SQL)",
                        "  data step that cannot be undone (it was recorded without reverse SQL)"])
        let sql = try cli.ok("upgrade", "head", "--sql").stdout
        XCTAssertTrue(sql.contains("-- data step\nUPDATE users SET name = 'anonymous' WHERE name IS NULL;\n"), sql)
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT name FROM users ORDER BY id"), "ana\nanonymous")

        let refused = try cli.run("downgrade", "-2")
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(refused.stderr, "error: the way back passes event \(lower.prefix(12)) (lowercase), a data step recorded without reverse SQL, "
            + "so its rows cannot be put back; nothing was run. Pass --allow-irreversible to go past it anyway (the schema goes back; the rows it changed stay as they are)\n")
        XCTAssertEqual(try cli.ok("current").stdout, lower + "\n")
        try cli.ok("downgrade", "-2", "--allow-irreversible")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT coalesce(name, 'NULL') FROM users ORDER BY id"), "ana\nNULL", "the backfill was undone")

        // A data step may change rows only, and must run on the schema at head.
        let before = try cli.tree()
        let creates = try cli.run("revision", "-m", "x", "--exec", "CREATE TABLE sneaky (x)")
        XCTAssertEqual(creates.status, 2)
        XCTAssertTrue(creates.stderr.hasPrefix("error: event "), creates.stderr)
        XCTAssertTrue(creates.stderr.hasSuffix(", op 1 (data step: CREATE TABLE sneaky(x) (irreversible: no reverse SQL)): the data step `CREATE TABLE sneaky (x)` holds "
            + "`CREATE TABLE sneaky (x)`, and a data step holds only INSERT, UPDATE, DELETE, REPLACE and SELECT statements (record schema changes with --sql or --autogenerate); "
            + "strata runs only SQL that is what its place in an op says, so nothing was changed\n"), creates.stderr)
        let broken = try cli.run("revision", "-m", "x", "--exec", "UPDATE nope SET a = 1")
        XCTAssertEqual(broken.status, 2)
        XCTAssertEqual(broken.stderr, "error: the data step does not run on the schema at head: no such table: nope (in `UPDATE nope SET a = 1`); nothing was recorded\n")
        XCTAssertEqual(try cli.tree(), before, "nothing was recorded")
    }

    /// Scripts start from `strata schema`: on an empty log it is empty, not an error.
    func testTheSchemaOfAnEmptyLogIsEmpty() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        XCTAssertEqual(try cli.ok("schema").stdout, "-- schema at base\n")
        XCTAssertEqual(try cli.ok("schema", "--json").stdout, "{\n  \"indexes\": [],\n  \"tables\": [],\n  \"triggers\": [],\n  \"views\": []\n}\n")
    }

    func testReadCommandsPrintJSON() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db", "--author", "ana@example.com")
        try cli.write("models.sql", WorkflowTests.users)
        let r1 = try cli.ok("revision", "--autogenerate", "-m", "create users").lines[0]
        try cli.ok("upgrade", "head")
        func object(_ args: String...) throws -> [String: Any] { try cli.json(args) as! [String: Any] }
        func array(_ args: String...) throws -> [[String: Any]] { try cli.json(args) as! [[String: Any]] }
        XCTAssertEqual(try object("show", "head", "--json")["id"] as? String, r1)
        XCTAssertEqual(try object("show", "head", "--json")["downgrade_sql"] as? [String], ["DROP TABLE users"])
        XCTAssertEqual(try object("current", "--json")["revision"] as? String, r1)
        XCTAssertEqual((try object("schema", "--json")["tables"] as? [[String: Any]])?.first?["name"] as? String, "users")
        XCTAssertEqual((try object("check", "--json")["drift"] as? [Any])?.count, 0)
        XCTAssertEqual(try object("verify", "--json")["ok"] as? Bool, true)
        XCTAssertEqual(try array("heads", "--json").map { $0["id"] as? String }, [r1])
        XCTAssertEqual(try array("blame", "users.email", "--json").map { $0["id"] as? String }, [r1])
        XCTAssertEqual(try array("history", "--json").map { $0["id"] as? String }, [r1])
    }

    func testTheAlembicWorkflowEndToEnd() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "app/models.sql", "--db", "app.db", "--author", "ana@example.com")
        XCTAssertTrue(FileManager.default.fileExists(atPath: cli.path("strata.toml")))
        try cli.write("app/models.sql", WorkflowTests.users)

        let first = try cli.ok("revision", "--autogenerate", "-m", "create users")
        let r1 = first.lines[0]
        XCTAssertEqual(r1.count, 64)
        XCTAssertEqual(try cli.ok("revision", "--autogenerate", "-m", "again").stdout, "No changes detected\n")
        let once = try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json").stdout.utf8)) as! [Any]
        XCTAssertEqual(once.count, 1, "nothing appended")

        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.ok("current").stdout, r1 + "\n")
        _ = try cli.sqlite("app.db", "INSERT INTO users (name, email) VALUES ('ana', 'a@x'), ('bo', 'b@x')")

        try cli.write("app/models.sql", WorkflowTests.users.replacingOccurrences(of: "email VARCHAR(120)", with: "email VARCHAR(120),\n    age INTEGER"))
        let r2 = try cli.ok("revision", "--autogenerate", "-m", "Add age column to users table").lines[0]
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*) FROM users"), "2", "rows kept")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT name FROM pragma_table_info('users') ORDER BY cid"), "id\nname\nemail\nage")

        try cli.write("app/models.sql", try String(contentsOfFile: cli.path("app/models.sql"), encoding: .utf8)
            + "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, owner INTEGER REFERENCES users(id));\n")
        let r3 = try cli.ok("revision", "--autogenerate", "-m", "add products").lines[0]
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT name FROM sqlite_master WHERE name = 'products'"), "products")

        // Downgrade is derived from the event; no down script exists anywhere.
        try cli.ok("downgrade", "-1")
        XCTAssertEqual(try cli.ok("current").stdout, r2 + "\n")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*) FROM sqlite_master WHERE name = 'products'"), "0")
        try cli.ok("downgrade", "base")
        XCTAssertEqual(try cli.ok("current").stdout, "base\n")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT group_concat(name) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'strata_%'"), "")
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.ok("current").stdout, r3 + "\n")
        try cli.ok("check")

        // Read commands.
        let history = try cli.ok("history").stdout
        XCTAssertTrue(history.hasPrefix(String(r3.prefix(12)) + " (head)"), history)
        let json = try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json").stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(json.map { $0["id"] as! String }, [r3, r2, r1])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json", "--limit", "1").stdout.utf8)) as! [Any]).count, 1)
        XCTAssertEqual(json[0]["parents"] as! [String], [r2])
        XCTAssertEqual(json[0]["author"] as! String, "ana@example.com")
        for key in ["timestamp", "message", "ops"] { XCTAssertNotNil(json[0][key], key) }

        let show = try cli.ok("show", String(r2.prefix(6))).stdout
        XCTAssertTrue(show.contains("ALTER TABLE users ADD COLUMN age INTEGER;"), show)
        XCTAssertTrue(show.contains("ALTER TABLE users DROP COLUMN age;"), show)

        let atR1 = try cli.ok("schema", "--at", String(r1.prefix(8))).stdout
        XCTAssertTrue(atR1.contains("CREATE TABLE users"), atR1)
        XCTAssertFalse(atR1.contains("age"), atR1)
        XCTAssertFalse(atR1.contains("products"), atR1)

        try cli.ok("materialize", String(r2.prefix(8)), "--out", "r2.db")
        XCTAssertEqual(try cli.sqlite("r2.db", "SELECT revision FROM strata_version"), r2)
        XCTAssertEqual(try cli.sqlite("r2.db", "SELECT name FROM pragma_table_info('users') ORDER BY cid"), "id\nname\nemail\nage")
        try cli.ok("check", "--db", "r2.db")

        try cli.ok("verify")
        let blame = try cli.ok("blame", "users.age").stdout
        XCTAssertTrue(blame.contains("Add age column to users table"), blame)
        XCTAssertFalse(blame.contains("add products"), blame)

        // Offline SQL, for a table rebuild too: nothing is touched.
        let before = try cli.tree()
        let down = try cli.ok("downgrade", "-1", "--sql").stdout
        XCTAssertTrue(down.contains("DROP TABLE products;"), down)
        try cli.write("app/models.sql", try String(contentsOfFile: cli.path("app/models.sql"), encoding: .utf8)
            .replacingOccurrences(of: "name TEXT NOT NULL", with: "name TEXT NOT NULL DEFAULT ''"))
        try cli.ok("revision", "--autogenerate", "-m", "default name")
        let beforeSQL = try cli.tree()
        let up = try cli.ok("upgrade", "head", "--sql").stdout
        XCTAssertTrue(up.contains("CREATE TABLE _strata_new_products"), up)
        XCTAssertTrue(up.contains("ALTER TABLE _strata_new_products RENAME TO products;"), up)
        XCTAssertEqual(try cli.tree(), beforeSQL, "--sql touches nothing")
        XCTAssertNotEqual(before, beforeSQL)

        // The database keeps its applied-history and event copies.
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT group_concat(direction) FROM strata_history"), "up,up,up,down,down,down,up,up,up")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*) FROM strata_events"), "3")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT DISTINCT applied_by FROM strata_history"), "ana@example.com")

        // stamp adopts a database without running anything.
        _ = try cli.sqlite("adopted.db", "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50), email VARCHAR(120)); CREATE UNIQUE INDEX ix_users_email ON users (email);")
        try cli.ok("stamp", String(r1.prefix(8)), "--db", "adopted.db")
        try cli.ok("check", "--db", "adopted.db")
        try cli.ok("upgrade", "head", "--db", "adopted.db")
        try cli.ok("check", "--db", "adopted.db")
    }

    /// A database migrated by a newer log keeps copies of the events: a node
    /// whose log lacks them can still take it back, and audit it.
    func testANodeWithAnOlderLogDowngradesUsingTheDatabasesCopies() throws {
        let newer = try CLI()
        try newer.ok("init", "--models", "models.sql", "--db", "app.db")
        try newer.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);")
        let r1 = try newer.ok("revision", "--autogenerate", "-m", "v1").lines[0]
        // The older node's log stops at r1.
        let older = try newer.copy()
        try newer.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);")
        let r2 = try newer.ok("revision", "--autogenerate", "-m", "v2").lines[0]
        try newer.ok("upgrade", "head")

        let db = newer.path("app.db")
        let check = try older.run("check", "--db", db)
        XCTAssertEqual(check.status, 0, check.stderr + check.stdout)
        XCTAssertEqual(try older.ok("current", "--db", db).stdout, r2 + "\n")
        try older.ok("downgrade", "-1", "--db", db)
        XCTAssertEqual(try older.ok("current", "--db", db).stdout, r1 + "\n")
        XCTAssertEqual(try newer.sqlite("app.db", "SELECT group_concat(name) FROM pragma_table_info('users')"), "id,name")
        // Or straight to a revision only the database knows, by prefix.
        try newer.ok("upgrade", "head")
        try older.ok("downgrade", "base", "--db", db)
        XCTAssertEqual(try newer.sqlite("app.db", "SELECT group_concat(direction) FROM strata_history"), "up,up,down,up,down,down")
    }

    func testRenameHintKeepsTheColumnsData() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, fullname TEXT);")
        try cli.ok("revision", "--autogenerate", "-m", "v1")
        try cli.ok("upgrade", "head")
        _ = try cli.sqlite("app.db", "INSERT INTO users (fullname) VALUES ('Ana')")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);")
        let r = try cli.ok("revision", "--autogenerate", "-m", "rename", "--rename", "users.fullname=name")
        XCTAssertEqual(Array(r.lines.dropFirst()), ["  rename column users.fullname to name"])
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT name FROM users"), "Ana")
        try cli.ok("downgrade", "-1")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT fullname FROM users"), "Ana")
    }

    func testHandWrittenRevisionBecomesStructuredOps() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, fullname TEXT);")
        try cli.ok("revision", "--autogenerate", "-m", "v1")
        let r = try cli.ok("revision", "-m", "by hand", "--sql", "ALTER TABLE users RENAME COLUMN fullname TO name; CREATE INDEX ix ON users (name);")
        XCTAssertEqual(Array(r.lines.dropFirst()), ["  rename column users.fullname to name", "  create index ix on users"])
    }

    func testTwoHeadsAreReportedRefusedAndMerged() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);")
        let root = try cli.ok("revision", "--autogenerate", "-m", "root").lines[0]
        try cli.ok("revision", "-m", "left", "--sql", "CREATE TABLE l (id INTEGER PRIMARY KEY);")
        // A second branch on the same parent, as a pull would bring: written
        // by a second project sharing the log file's history.
        let other = try cli.copy()
        try other.write("models.sql", "")
        _ = try other.sqlite(".strata/log.db", "DELETE FROM events WHERE seq = 2; DELETE FROM heads; INSERT INTO heads (id) VALUES ('\(root)')")
        let right = try other.ok("revision", "-m", "right", "--sql", "CREATE TABLE r (id INTEGER PRIMARY KEY);").lines[0]
        let body = try other.sqlite(".strata/log.db", "SELECT body FROM events WHERE id = '\(right)'")
        _ = try cli.sqlite(".strata/log.db", "INSERT INTO events (id, height, body) VALUES ('\(right)', 2, CAST('\(body.replacingOccurrences(of: "'", with: "''"))' AS BLOB)); INSERT INTO heads (id) VALUES ('\(right)')")

        XCTAssertEqual(try cli.ok("heads").lines.count, 3)
        let refused = try cli.run("upgrade", "head")
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.hasPrefix("error: the log has 2 heads"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("strata merge"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("strata sync"), refused.stderr)
        let merge = try cli.ok("merge", "-m", "join").lines[0]
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.ok("current").stdout, merge + "\n")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'strata_%' ORDER BY name)"), "a,l,r")
        try cli.ok("verify")
        try cli.ok("downgrade", "base")
    }
}
