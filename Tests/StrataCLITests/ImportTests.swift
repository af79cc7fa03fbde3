import Foundation
import XCTest

/// `strata import` on a hand-made folder per format: the same five
/// migrations (a table with a spaced type, a data step, a column rename, a
/// create-copy-drop-rename rebuild, a data step before two added columns,
/// one with a double-quoted default), with each tool's quirks (BEGIN/COMMIT
/// and PRAGMA lines, a statement without `;`, an empty migration, dialect
/// files, an undo file, statement breakpoints, quoted names, goose sections,
/// numbers that sort as numbers, an empty SQLite file that wins over another
/// dialect's).
final class ImportTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let formats = ["diesel", "golang-migrate", "dbmate", "flyway", "sqitch", "drizzle", "prisma", "sqlx", "goose", "popx", "numbered"]

    func imported(_ format: String) throws -> CLI {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db", "--author", "ana@example.com")
        let r = try cli.ok("import", format, "\(Self.fixtures)/\(format)")
        // diesel's empty migration, and popx's version whose SQLite file is empty.
        let empty = ["diesel": "2024-01-09-000000_nothing", "popx": "20240109120000000000_nothing"][format]
        let skipped = empty.map { "1 skipped with nothing to record)\n  skipped \($0)" } ?? "0 skipped with nothing to record)"
        XCTAssertEqual(r.lines.dropLast().joined(separator: "\n"),
                       "imported \(empty == nil ? 5 : 6) migrations as 5 events (1 rename kept, 2 data steps, \(skipped)", format)
        return cli
    }

    func testEveryFormatImportsUpgradesAndGoesBackToBase() throws {
        for format in Self.formats {
            let cli = try imported(format)
            let history = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json").stdout.utf8)) as? [[String: Any]])
            XCTAssertEqual(history.map { $0["summary"] as? [String] }, [
                ["data step: UPDATE users SET name = upper(name) (irreversible: no reverse SQL)", "add column users.age INTEGER", "add column users.status TEXT"],
                ["alter column users.email: set NOT NULL, default none -> ''"],
                ["rename column users.fullname to name"],
                ["data step: INSERT INTO users(fullname, email) VALUES ('Ana', 'a@x'),... (irreversible: no reverse SQL)"],
                ["create table users (id, fullname, email) with 1 index"],
            ], format)
            XCTAssertEqual(history.map { $0["message"] as? String },
                           ["shout then age", "require email", "rename fullname", "add people", "create users"], format)
            try cli.ok("upgrade", "head")
            // The rows inserted before the rename kept their names through it and through the rebuild.
            XCTAssertEqual(try cli.sqlite("app.db", "SELECT id, name, email, coalesce(age, 'NULL'), status FROM users ORDER BY id"),
                           "1|ANA|a@x|NULL|active\n2|BO||NULL|active", format)
            XCTAssertEqual(try cli.sqlite("app.db", "SELECT type FROM pragma_table_info('users') WHERE name = 'name'"), "VARCHAR (64)", format)
            try cli.ok("check")
            try cli.ok("downgrade", "base", "--allow-irreversible")
            XCTAssertEqual(try cli.ok("current").stdout, "base\n", format)
            XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*) FROM sqlite_master WHERE name = 'users'"), "0", format)
        }
    }

    /// Times come from the versions (or the epoch plus the step), never the
    /// clock: two teammates importing the same folder get the same ids.
    func testImportingIsDeterministic() throws {
        for format in ["diesel", "flyway"] {
            let a = try imported(format), b = try imported(format)
            XCTAssertEqual(try a.ok("history", "--json").stdout, try b.ok("history", "--json").stdout, format)
        }
        let dated = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try imported("dbmate").ok("history", "--json").stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(dated.last?["timestamp"] as? String, "2024-01-01T12:00:00.000Z")
    }

    func testAFolderThatDoesNotApplyIsRefusedBeforeAnythingIsWritten() throws {
        let cli = try imported("diesel")
        let before = try cli.tree()
        let again = try cli.run("import", "dbmate", "\(Self.fixtures)/dbmate")
        XCTAssertEqual(again.status, 2)
        // The line counts from the start of the migration's up section.
        XCTAssertEqual(again.stderr, "error: dbmate migration 20240101120000_create_users: statement at line 4: table users already exists\n")
        XCTAssertEqual(try cli.tree(), before, "nothing written")

        let repeatable = try CLI()
        try repeatable.ok("init", "--models", "models.sql", "--db", "app.db")
        try repeatable.write("flyway/V1__a.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);")
        try repeatable.write("flyway/R__views.sql", "CREATE VIEW v AS SELECT 1;")
        let refused = try repeatable.run("import", "flyway", "flyway")
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(refused.stderr, "error: R__views.sql is a repeatable migration (R__), re-run by flyway whenever it changes; strata records changes once: "
            + "move what it creates into a versioned migration, or leave it out of the folder to import\n")
        let unknown = try repeatable.run("import", "liquibase", "flyway")
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.hasPrefix("error: unknown format liquibase; one of diesel, golang-migrate, dbmate, flyway, sqitch, drizzle, alembic"), unknown.stderr)
    }

    /// The folder's own downs, each run right after its up on a scratch
    /// database: exact verdicts for every format, and nothing recorded.
    func testCheckDownsReportsOnEveryFormatAndRecordsNothing() throws {
        let expected: [String: [String]] = [
            "diesel": ["returns  diesel migration 2024-01-01-000000_create_users", "returns  diesel migration 2024-01-02-000000_add_people",
                       "returns  diesel migration 2024-01-03-000000_rename_fullname",
                       "differs  diesel migration 2024-01-04-000000_require_email: still changed after it: alter column users.email: set NOT NULL, default none -> ''",
                       "returns  diesel migration 2024-01-05-000000_shout_then_age", "returns  diesel migration 2024-01-09-000000_nothing",
                       "5 return, 1 differ, 0 fail, 0 missing."],
            "golang-migrate": ["returns  golang-migrate migration 000001_create_users",
                               "fails    golang-migrate migration 000002_add_people: the down of golang-migrate migration 000002_add_people: statement at line 1: no such table: people",
                               "returns  golang-migrate migration 000003_rename_fullname",
                               "differs  golang-migrate migration 000004_require_email: still changed after it: alter column users.email: set NOT NULL, default none -> ''",
                               "returns  golang-migrate migration 000005_shout_then_age", "3 return, 1 differ, 1 fail, 0 missing."],
            "flyway": ["returns  flyway migration V1__create_users.sql", "missing  flyway migration V2__add_people.sql",
                       "missing  flyway migration V2.1__rename_fullname.sql", "missing  flyway migration V3__require_email.sql",
                       "missing  flyway migration V10__shout_then_age.sql", "1 return, 0 differ, 0 fail, 4 missing."],
        ]
        for format in Self.formats {
            let cli = try CLI()
            try cli.ok("init", "--models", "models.sql", "--db", "app.db")
            let before = try cli.tree()
            let r = try cli.ok("import", format, "\(Self.fixtures)/\(format)", "--check-downs")
            XCTAssertEqual(try cli.tree(), before, "nothing recorded", file: #filePath, line: #line)
            if ["drizzle", "prisma"].contains(format) {
                XCTAssertEqual(r.stdout, "\(format) keeps no downs: its migrations only go forward. strata derives each event's way down; nothing recorded\n")
                continue
            }
            XCTAssertEqual(r.lines.last, "Nothing recorded: strata derives each event's way down; run without --check-downs to import", format)
            guard let lines = expected[format] else {
                XCTAssertEqual(r.lines.filter { $0.hasPrefix("  differs") }.count, 1, "\(format): one down differs\n\(r.stdout)")
                continue
            }
            XCTAssertEqual(Array(r.lines.dropFirst().dropLast()).map { $0.trimmingCharacters(in: .whitespaces) }, lines, format)
        }
    }

    /// A rebuild's copy that moves a column under a new name
    /// (`SELECT nick` into `handle`) is a rename: the data goes with it, and
    /// a plain copy next to it is not mistaken for one.
    func testAColumnCopiedUnderANewNameInARebuildIsARename() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("m/000001_people.up.sql", "CREATE TABLE people (id INTEGER PRIMARY KEY, nick TEXT, note TEXT);\nINSERT INTO people (nick, note) VALUES ('ana', 'x');")
        try cli.write("m/000002_handle.up.sql", """
            CREATE TABLE people_new (id INTEGER PRIMARY KEY, handle TEXT NOT NULL DEFAULT '', note TEXT);
            INSERT INTO people_new (id, handle, note) SELECT people.id, people.nick, note FROM people;
            DROP TABLE people;
            ALTER TABLE people_new RENAME TO people;
            """)
        XCTAssertEqual(try cli.ok("import", "golang-migrate", "m").lines.first,
                       "imported 2 migrations as 2 events (1 rename kept, 1 data step, 0 skipped with nothing to record)")
        let history = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json").stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(history.first?["summary"] as? [String], ["rename column people.nick to handle", "alter column people.handle: set NOT NULL, default none -> ''"])
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT id, handle, note FROM people"), "1|ana|x")
        try cli.ok("downgrade", "-1")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT id, nick, note FROM people"), "1|ana|x")
    }

    /// A migration that calls a function the application registers on its
    /// connections (authelia's `BIN2B64`): refused with the setting that
    /// declares it, then imported with it; the data step runs where it
    /// meets no row and stops, with nothing applied, where it meets one.
    func testAFunctionOfTheApplicationIsDeclaredAndNeverFaked() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("m/V1.keys.up.sql", "CREATE TABLE keys (id INTEGER PRIMARY KEY, handle BLOB);\n")
        try cli.write("m/V2.text.up.sql", """
            ALTER TABLE keys ADD COLUMN kid TEXT;
            UPDATE keys SET kid = BIN2B64(handle);
            """)
        let before = try cli.tree()
        let refused = try cli.run("import", "numbered", "m")
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(refused.stderr, "error: numbered migration V2.text: statement at line 2: no such function: BIN2B64 "
            + "(if the application registers it on its connections, name it in strata.toml: app_functions = [\"BIN2B64\"])\n")
        XCTAssertEqual(try cli.tree(), before, "nothing written")

        try cli.write("strata.toml", try cli.read("strata.toml") + "app_functions = [\"BIN2B64\"]\n")
        try cli.ok("import", "numbered", "m")
        let ids = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json").stdout.utf8)) as? [[String: Any]]).compactMap { $0["id"] as? String }
        XCTAssertEqual(ids.count, 2)
        try cli.ok("upgrade", "head", "--db", "empty.db")
        XCTAssertEqual(try cli.sqlite("empty.db", "SELECT group_concat(name) FROM pragma_table_info('keys')"), "id,handle,kid")

        try cli.ok("upgrade", ids[1])
        _ = try cli.sqlite("app.db", "INSERT INTO keys VALUES (1, x'0102')")
        let stopped = try cli.run("upgrade", "head")
        XCTAssertEqual(stopped.status, 2, stopped.stderr)
        XCTAssertTrue(stopped.stderr.contains("BIN2B64() is a function of the application (app_functions in strata.toml): strata cannot compute it, "
            + "and this step reaches it with rows; run this migration from the application, or rewrite the step in SQL"), stopped.stderr)
        XCTAssertEqual(try cli.ok("current").stdout, "\(ids[1])\n")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT group_concat(name) FROM pragma_table_info('keys')"), "id,handle")
    }

    /// A rebuild's copy that computes a value (not a column, a literal or
    /// the fill of a NOT NULL column) is said aloud: the event records the
    /// table's change, and strata's rebuild does not compute it again.
    func testAValueARebuildComputesIsNamedNotDroppedSilently() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("m/1_keys.sql", "CREATE TABLE keys (id INTEGER PRIMARY KEY, handle BLOB, email TEXT);\n")
        try cli.write("m/2_text.sql", """
            CREATE TABLE keys2 (id INTEGER PRIMARY KEY, handle TEXT, email TEXT NOT NULL DEFAULT '');
            INSERT INTO keys2 (id, handle, email) SELECT id, hex( handle ), coalesce(email, '') FROM keys;
            DROP TABLE keys;
            ALTER TABLE keys2 RENAME TO keys;
            """)
        let r = try cli.ok("import", "numbered", "m")
        XCTAssertEqual(r.stderr, "warning: numbered migration 2_text: the rebuild at line 2 copies hex(handle) into handle: strata records the change of the table, "
            + "and its own rebuild copies the column as it is, so the conversion is not recorded; record it as a data step (strata revision --exec) if the rows need it\n")
    }
}
