import Foundation
import XCTest

/// The breaks real projects' histories found in the core workflow, each
/// reduced to its smallest form and run on the real CLI: autogenerate,
/// upgrade, downgrade and import on inputs SQLite itself accepts.
final class CoreWorkflowTests: XCTestCase {
    /// A project whose log holds one revision per models text, in order.
    func project(_ models: [String], file: StaticString = #filePath, line: UInt = #line) throws -> CLI {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        for (n, text) in models.enumerated() {
            try cli.write("models.sql", text)
            try cli.ok("revision", "--autogenerate", "-m", "step \(n + 1)")
        }
        return cli
    }

    func summary(_ cli: CLI) throws -> [String] {
        let history = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json").stdout.utf8)) as? [[String: Any]])
        return history.first?["summary"] as? [String] ?? []
    }

    /// Break 1: a foreign key from an existing table to one created in the same revision.
    func testAForeignKeyToATableCreatedInTheSameRevision() throws {
        let cli = try project(["CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT);",
                               "CREATE TABLE departments (id INTEGER PRIMARY KEY);\nCREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT, dept_id INTEGER REFERENCES departments(id));"])
        XCTAssertEqual(try summary(cli), ["create table departments (id)", "add column employees.dept_id INTEGER", "alter constraints of employees: foreign keys"])
        try cli.ok("upgrade", "head")
        _ = try cli.sqlite("app.db", "INSERT INTO departments VALUES (1); INSERT INTO employees VALUES (1, 'ana', 1)")
        try cli.ok("downgrade", "-1")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT * FROM employees"), "1|ana")
    }

    /// Break 2: the statement after a doubled `;` is imported, not skipped.
    func testADoubledSemicolonLosesNothing() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("m/000001_init.up.sql", "CREATE TABLE a (x INTEGER);;\nCREATE TABLE b (y INTEGER);\n")
        try cli.ok("import", "golang-migrate", "m")
        XCTAssertEqual(try summary(cli), ["create table a (x)", "create table b (y)"])
    }

    /// Break 3: a UNIQUE index with backtick-quoted names is the key a foreign key needs.
    func testBacktickQuotedNamesAreTheSameNames() throws {
        let cli = try project(["""
            CREATE TABLE `lists` (`id` text PRIMARY KEY NOT NULL, `userId` text NOT NULL);
            CREATE TABLE `actions` (`id` text PRIMARY KEY, `userId` text, `listId` text, FOREIGN KEY (`userId`, `listId`) REFERENCES `lists`(`userId`, `id`));
            CREATE UNIQUE INDEX `lists_u` ON `lists` (`userId`, `id`);
            """])
        try cli.ok("upgrade", "head")
        try cli.ok("lint")
    }

    /// Break 4: names that change only in case.
    func testANameThatChangesOnlyInCase() throws {
        // The view names the table as the first models did; SQLite rewrites
        // its text on the rename, and that is no change to the view.
        let view = "CREATE VIEW names AS SELECT \"UserName\" FROM USERS;"
        let cli = try project(["CREATE TABLE USERS (id INTEGER PRIMARY KEY, \"UserName\" TEXT);\n" + view,
                               "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT);\n" + view])
        XCTAssertEqual(try summary(cli), ["rename table USERS to users", "rename column users.UserName to username"])
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'strata_%'"), "users")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT sql FROM sqlite_master WHERE name = 'names'"), "CREATE VIEW names AS SELECT \"UserName\" FROM users")
        try cli.ok("check")
        try cli.ok("downgrade", "-1")
        try cli.ok("check")
    }

    /// Break 5: a table dropped with the key column its foreign key references.
    func testATableDroppedWithTheColumnItReferences() throws {
        let cli = try project(["CREATE TABLE users (id INTEGER PRIMARY KEY, user_id INTEGER);\nCREATE TABLE taggings (user_id INTEGER REFERENCES users(id));",
                               "CREATE TABLE users (user_id INTEGER PRIMARY KEY, name TEXT);"])
        try cli.ok("upgrade", "head")
        try cli.ok("downgrade", "-1")
        try cli.ok("check")
    }

    /// Break 6: an expression default added to a table with rows.
    func testAnExpressionDefaultOnATableWithRows() throws {
        let cli = try project(["CREATE TABLE t (id INTEGER PRIMARY KEY);", "CREATE TABLE t (id INTEGER PRIMARY KEY, tags TEXT DEFAULT (json_array()));"])
        try cli.ok("upgrade", "+1")
        _ = try cli.sqlite("app.db", "INSERT INTO t VALUES (1)")
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT id, tags FROM t"), "1|[]")
        try cli.ok("downgrade", "-1")
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT id, tags FROM t"), "1|[]")
    }

    /// Break 7: a CHECK whose keywords change only in case is no change.
    func testACheckThatChangesOnlyInCaseIsNoChange() throws {
        let cli = try project(["CREATE TABLE t (s TEXT CHECK (s in ('a', 'b')));"])
        try cli.write("models.sql", "CREATE TABLE t (s TEXT CHECK (s IN ('a', 'b')));")
        XCTAssertEqual(try cli.ok("revision", "--autogenerate", "-m", "again").stdout, "No changes detected\n")
    }

    /// Break 8: no error-level finding about a half-applied revision.
    func testFindingsAreAboutTheStateAStatementLeaves() throws {
        let cli = try project(["CREATE TABLE t (id INTEGER PRIMARY KEY);\nCREATE TABLE log (n INTEGER);\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (1); END;",
                               "CREATE TABLE other (id INTEGER PRIMARY KEY);"])
        let r = try cli.ok("lint")
        XCTAssertFalse(r.stdout.contains("BC105") || r.stderr.contains("BC105"), r.stdout + r.stderr)
    }

    /// Break 9: `--rename` names a column with a `.` in quotes.
    func testARenameOfAColumnWithADot() throws {
        let cli = try project(["CREATE TABLE t (id INTEGER PRIMARY KEY, \"special.column\" TEXT);"])
        try cli.ok("upgrade", "head")
        _ = try cli.sqlite("app.db", "INSERT INTO t VALUES (1, 'kept')")
        try cli.write("models.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY, plain TEXT);")
        try cli.ok("revision", "--autogenerate", "-m", "rename", "--rename", "t.\"special.column\"=plain")
        XCTAssertEqual(try summary(cli), ["rename column t.special.column to plain"])
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT * FROM t"), "1|kept")
    }

    /// Break 10 (drizzle): a table set aside, made again and copied back keeps its rows.
    func testATableSetAsideAndMadeAgainKeepsItsRows() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("m/1_user.sql", "CREATE TABLE user (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO user VALUES (1, 'ana');\n")
        try cli.write("m/2_email.sql", """
            ALTER TABLE user RENAME TO __user_old;
            CREATE TABLE user (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', email TEXT);
            INSERT INTO user (id, name) SELECT id, name FROM __user_old;
            DROP TABLE __user_old;
            """)
        try cli.ok("import", "numbered", "m")
        XCTAssertEqual(try summary(cli), ["alter column user.name: set NOT NULL, default none -> ''", "add column user.email TEXT"])
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT * FROM user"), "1|ana|")
    }

    /// Break 10 (popx): a foreign key may name a column its parent gains later in the same migration.
    func testAForeignKeyToAColumnItsParentGainsLater() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("m/1_init.sql", """
            CREATE TABLE networks (id TEXT PRIMARY KEY);
            CREATE TABLE flows (id TEXT PRIMARY KEY, nid TEXT REFERENCES networks(nid));
            ALTER TABLE networks ADD COLUMN nid TEXT;
            CREATE UNIQUE INDEX networks_nid ON networks (nid);
            """)
        try cli.ok("import", "numbered", "m")
        try cli.ok("upgrade", "head")
        try cli.ok("check")
    }

    /// Break 11: what a models module prints as it is imported is not models.
    func testSQLAlchemyModelsThatPrint() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "app/models.py", "--db", "app.db")
        try cli.write("app/models.py", "print(\"dotenv not installed, skipping...\")\n" + SQLAlchemyTests.users)
        XCTAssertEqual(try cli.ok("revision", "--autogenerate", "-m", "users").lines.dropFirst(), ["  create table users (id, name, email) with 2 indexes"])
    }

    /// Break 12: column order is no change for SQLAlchemy models; `exclude`
    /// leaves what something else manages alone, in autogenerate and check.
    func testColumnOrderAndExcludedTables() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "app/models.py", "--db", "app.db")
        try cli.write("app/models.py", SQLAlchemyTests.users)
        try cli.ok("revision", "--autogenerate", "-m", "users")
        // `age` declared between name and email: ADD COLUMN puts it last, and that is no change.
        try cli.write("app/models.py", SQLAlchemyTests.users.replacingOccurrences(of: "    email =", with: SQLAlchemyTests.age + "    email ="))
        XCTAssertEqual(try cli.ok("revision", "--autogenerate", "-m", "age").lines.dropFirst(), ["  add column users.age INTEGER"])
        XCTAssertEqual(try cli.ok("revision", "--autogenerate", "-m", "again").stdout, "No changes detected\n")
        try cli.ok("upgrade", "head")

        // A table the application makes for itself drifts, until excluded.
        _ = try cli.sqlite("app.db", "CREATE TABLE fts_users_data (id INTEGER PRIMARY KEY, block BLOB)")
        XCTAssertNotEqual(try cli.run("check").status, 0)
        try cli.write("strata.toml", try cli.read("strata.toml") + "exclude = [\"fts_*\"]\n")
        try cli.ok("check")

        // A DDL file compares column order unless told not to.
        let ddl = try project(["CREATE TABLE t (a INT, b INT);"])
        try ddl.write("models.sql", "CREATE TABLE t (b INT, a INT);")
        try ddl.ok("revision", "--autogenerate", "-m", "order")
        XCTAssertEqual(try summary(ddl), ["reorder columns of t: b, a"])
        try ddl.write("models.sql", "CREATE TABLE t (a INT, b INT);")
        try ddl.write("strata.toml", try ddl.read("strata.toml") + "compare_column_order = false\n")
        XCTAssertEqual(try ddl.ok("revision", "--autogenerate", "-m", "again").stdout, "No changes detected\n")
    }

    /// Break 13: a compacted upgrade prints each event once.
    func testACompactedUpgradePrintsEachEventOnce() throws {
        let cli = try project(["CREATE TABLE a (id INTEGER PRIMARY KEY, n TEXT);",
                               "CREATE TABLE a (id INTEGER PRIMARY KEY, n TEXT);\nCREATE TABLE b (id INTEGER PRIMARY KEY);",
                               "CREATE TABLE a (id INTEGER PRIMARY KEY, n TEXT, k INT);\nCREATE TABLE b (id INTEGER PRIMARY KEY);"])
        try cli.ok("revision", "--exec", "INSERT INTO a (n) VALUES ('x')", "-m", "step 4", "--reverse", "DELETE FROM a")
        try cli.write("models.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY, n TEXT, k INT);\nCREATE TABLE b (id INTEGER PRIMARY KEY, z INT);")
        try cli.ok("revision", "--autogenerate", "-m", "step 5")
        let lines = try cli.ok("upgrade", "head").lines
        XCTAssertEqual(lines.dropLast().map { String($0.suffix(6)) }, ["step 1", "step 2", "step 3", "step 4", "step 5"])
    }

    /// Break 14: concurrent upgrades of a database that does not exist yet.
    func testConcurrentUpgradesOfAMissingDatabase() throws {
        let cli = try project(["CREATE TABLE a (id INTEGER PRIMARY KEY);"])
        let head = try XCTUnwrap(try cli.ok("heads").stdout.split(separator: " ").first).prefix(12)
        for trial in 0..<5 {
            let db = "new-\(trial).db"
            let processes = (0..<4).map { _ in cli.process(["upgrade", "head", "--db", db]) }
            let outputs = processes.map { p -> Pipe in let out = Pipe(); p.standardOutput = out; p.standardError = FileHandle.nullDevice; return out }
            for p in processes { try p.run() }
            for p in processes where !p.waitForExit(within: CLI.commandLimit) {
                XCTFail("trial \(trial): an upgrade ran past \(Int(CLI.commandLimit)) s")
                Foundation.kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
            }
            let printed = outputs.map { String(decoding: $0.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
            for p in processes { XCTAssertEqual(p.terminationStatus, 0) }
            XCTAssertEqual(printed.filter { $0.contains("base -> \(head)") }.count, 1, printed.joined())
            XCTAssertEqual(printed.filter { $0.contains("already at \(head)") }.count, 3, printed.joined())
            XCTAssertEqual(try cli.sqlite(db, "SELECT count(*) FROM strata_version"), "1")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cli.path("")).filter { $0.contains("strata-new") }, [])
    }
}
