import Foundation
import StrataCore
import StrataSQLite
import XCTest

/// `strata import alembic`: a hand-made Alembic project (Fixtures/alembic)
/// run by Alembic itself on a scratch SQLite database. Its six revisions use
/// op.create_table/create_index, op.bulk_insert (a quote in a value),
/// op.alter_column(new_column_name=), op.execute before a batch-mode
/// rebuild, op.add_column with a server default, and a batch rebuild that
/// renames a column followed by op.rename_table. Its ini file and env.py
/// point at a PostgreSQL database that must never be reached.
final class AlembicImportTests: XCTestCase {
    static let project = "\(ImportTests.fixtures)/alembic"

    func imported() throws -> (CLI, CLI.Result) {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db", "--author", "ana@example.com")
        return (cli, try cli.ok("import", "alembic", Self.project))
    }

    /// The schema Alembic itself builds with `alembic upgrade head`, read the way `check` reads a database.
    func alembicUpgradeHead(_ cli: CLI) throws -> Schema {
        let name = "alembic-\(UUID().uuidString).db", db = cli.path(name)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-m", "alembic", "-c", "\(Self.project)/alembic.ini", "upgrade", "head"]
        p.environment = ProcessInfo.processInfo.environment.merging(["DATABASE_URL": "sqlite:///\(db)"]) { $1 }
        let r = try CLI.finish(p)
        XCTAssertEqual(r.status, 0, String(decoding: r.stderr, as: UTF8.self))
        defer { try? FileManager.default.removeItem(atPath: db) }
        _ = try cli.sqlite(name, "DROP TABLE alembic_version")
        return try TargetDatabase(path: db, create: false).schema()
    }

    func testAnAlembicProjectBecomesTheEventsAlembicRan() throws {
        let (cli, r) = try imported()
        XCTAssertEqual(r.lines.first, "imported 6 migrations as 6 events (3 renames kept, 4 data steps, 0 skipped with nothing to record)")
        XCTAssertEqual(r.stderr, ["4d5e6f7a8b04 (require email)", "6f7a8b9c0d06 (members)"].map {
            "warning: alembic revision \($0) uses batch mode: the table it rebuilds was read from the SQL Alembic ran on a scratch SQLite database "
                + "and recorded as one change of the table (a column copied under a new name as a rename); check its summary in `strata history`\n"
        }.joined())
        let history = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json").stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(history.map { $0["message"] as? String },
                       ["members", "shout then age", "require email", "rename fullname", "add people", "create users"])
        XCTAssertEqual(history.map { $0["timestamp"] as? String }.last, "2024-01-01T12:00:00.000Z", "the Create Date, never the clock")
        XCTAssertEqual(history.map { $0["summary"] as? [String] }, [
            ["rename table users to members", "rename column members.age to years"],
            ["data step: UPDATE users SET name = upper(name) (irreversible: no reverse SQL)", "add column users.age INTEGER", "add column users.status TEXT"],
            ["data step: UPDATE users SET email = '' WHERE email IS NULL (irreversible: no reverse SQL)", "alter column users.email: set NOT NULL, default none -> ''"],
            ["rename column users.fullname to name"],
            ["data step: INSERT INTO users(fullname, email) VALUES ('Ana', 'a@x') (irreversible: no reverse SQL)",
             "data step: INSERT INTO users(fullname, email) VALUES ('Bo''s', NULL) (irreversible: no reverse SQL)"],
            ["create table users (id, fullname, email) with 1 index"],
        ])

        try cli.ok("upgrade", "head")
        // The rows went through the rename, the rebuild and the rename inside a rebuild.
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT id, name, email, coalesce(years, 'NULL'), status FROM members ORDER BY id"),
                       "1|ANA|a@x|NULL|active\n2|BO'S||NULL|active")
        try cli.ok("check")
        // The same schema as Alembic's own `upgrade head` builds.
        XCTAssertEqual(try TargetDatabase(path: cli.path("app.db"), create: false).schema(), try alembicUpgradeHead(cli))

        try cli.ok("downgrade", "base", "--allow-irreversible")
        XCTAssertEqual(try cli.ok("current").stdout, "base\n")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*) FROM sqlite_master WHERE name IN ('users', 'members')"), "0")

        // Deterministic: a teammate's import gives the same ids.
        XCTAssertEqual(try imported().0.ok("history", "--json").stdout, try cli.ok("history", "--json").stdout)
    }

    func testAlembicsOwnDowngradesAreCheckedNotImported() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        let before = try cli.tree()
        let r = try cli.ok("import", "alembic", Self.project, "--check-downs")
        XCTAssertEqual(r.stdout, """
            the downs of 6 alembic migrations, each run on a scratch database right after its up:
              returns  alembic revision 1a2b3c4d5e01 (create users)
              differs  alembic revision 2b3c4d5e6f02 (add people): still changed after it: users holds 2 rows, 0 before
              returns  alembic revision 3c4d5e6f7a03 (rename fullname)
              returns  alembic revision 4d5e6f7a8b04 (require email)
              differs  alembic revision 5e6f7a8b9c05 (shout then age): still changed after it: add column users.age INTEGER
              fails    alembic revision 6f7a8b9c0d06 (members): (sqlite3.OperationalError) no such function: no_such_function
            3 return, 2 differ, 1 fail, 0 missing.
            Nothing recorded: strata derives each event's way down; run without --check-downs to import

            """)
        XCTAssertEqual(try cli.tree(), before, "nothing recorded")
    }

    func testAnAlembicProjectStrataCannotRunIsRefusedByName() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try FileManager.default.copyItem(atPath: Self.project, toPath: cli.path("proj"))
        func refuse(_ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let before = try cli.tree()
            let r = try cli.run("import", "alembic", "proj")
            XCTAssertEqual(r.status, 2, file: file, line: line)
            XCTAssertEqual(r.stderr, "error: \(message)\n", file: file, line: line)
            XCTAssertEqual(try cli.tree(), before, "nothing recorded", file: file, line: line)
        }

        // A column change outside batch mode: Alembic emits ALTER COLUMN, which SQLite does not have.
        let narrow = "proj/migrations/versions/7a8b9c0d1e07_narrow.py"
        try cli.write(narrow, """
            \"\"\"narrow email

            Revision ID: 7a8b9c0d1e07
            Revises: 6f7a8b9c0d06
            Create Date: 2024-01-07 12:00:00

            \"\"\"
            from alembic import op
            import sqlalchemy as sa

            revision = "7a8b9c0d1e07"
            down_revision = "6f7a8b9c0d06"


            def upgrade() -> None:
                op.alter_column("members", "email", type_=sa.String(10), existing_type=sa.Text)

            """)
        try refuse("alembic revision 7a8b9c0d1e07 (narrow email) does not run on SQLite: (sqlite3.OperationalError) near \"ALTER\": syntax error; "
            + "fix the revision (SQLite changes a column only in batch mode: with op.batch_alter_table(...)) and import again")
        try FileManager.default.removeItem(atPath: cli.path(narrow))

        // An env.py that ignores the URL strata gives it never reaches its own database.
        let env = try cli.read("proj/migrations/env.py")
        try cli.write("proj/migrations/env.py", env.replacingOccurrences(
            of: "url = os.environ.get(\"DATABASE_URL\") or config.get_main_option(\"sqlalchemy.url\")", with: "url = \"sqlite:///production.db\""))
        try refuse("env.py connects to a sqlite database (\(cli.path("proj/production.db"))), not to the scratch SQLite database strata gave it; nothing ran there. "
            + "Make env.py use sqlalchemy.url or DATABASE_URL, which strata sets")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cli.path("proj/production.db")), "not even created")
        try cli.write("proj/migrations/env.py", env)

        // Two heads.
        try cli.write("proj/migrations/versions/8b_side.py", "revision = \"8b\"\ndown_revision = \"5e6f7a8b9c05\"\ndef upgrade(): pass\n")
        try refuse("the project has 2 heads (6f7a8b9c0d06, 8b); merge them with `alembic merge heads` and import again")
        try FileManager.default.removeItem(atPath: cli.path("proj/migrations/versions/8b_side.py"))

        // No Alembic for the configured Python.
        try cli.write("bare-python", "#!/bin/sh\nexec python3 -S -s \"$@\"\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: cli.path("bare-python"))
        try cli.write("strata.toml", try cli.read("strata.toml") + "python = \"\(cli.path("bare-python"))\"\n")
        try refuse("Alembic is not installed for `\(cli.path("bare-python"))` (No module named 'alembic'); "
            + "run `\(cli.path("bare-python")) -m pip install alembic`, or set `python` in strata.toml to the interpreter of the project's virtualenv")
    }

    /// A branch and its merge: the revisions come in Alembic's order, the
    /// empty merge is skipped, and a branch's downgrade is checked alone
    /// (`REV@-1`), with the other branch applied.
    func testABranchAndItsMerge() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try FileManager.default.copyItem(atPath: Self.project, toPath: cli.path("proj"))
        try cli.write("proj/migrations/versions/8b_side.py", """
            \"\"\"side table\"\"\"
            from alembic import op
            import sqlalchemy as sa
            revision = "8b"
            down_revision = "5e6f7a8b9c05"
            def upgrade():
                op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
            def downgrade():
                op.drop_table("tags")

            """)
        try cli.write("proj/migrations/versions/9c_merge.py", "\"\"\"merge\"\"\"\nrevision = \"9c\"\ndown_revision = (\"8b\", \"6f7a8b9c0d06\")\ndef upgrade(): pass\ndef downgrade(): pass\n")
        let r = try cli.ok("import", "alembic", "proj")
        XCTAssertEqual(Array(r.lines.prefix(2)), ["imported 8 migrations as 7 events (3 renames kept, 4 data steps, 1 skipped with nothing to record)", "  skipped 9c (merge)"])
        let history = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json").stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(history.first?["message"] as? String, "side table")
        XCTAssertEqual(history.first?["timestamp"] as? String, "2024-01-06T12:00:00.001Z", "no Create Date: a step after the revision before it")
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'strata_%' ORDER BY name)"), "members tags")
        let downs = try cli.ok("import", "alembic", "proj", "--check-downs")
        XCTAssertEqual(downs.lines.suffix(4), [
            "  fails    alembic revision 6f7a8b9c0d06 (members): (sqlite3.OperationalError) no such function: no_such_function",
            "  returns  alembic revision 8b (side table)",
            "4 return, 2 differ, 1 fail, 0 missing.",
            "Nothing recorded: strata derives each event's way down; run without --check-downs to import"])
    }

    /// What real Alembic projects hold: a `Create Date:` that is no date
    /// (Alembic never reads it: a warning naming the file, and the time of
    /// its place), and a table set aside to be made again (`chat` renamed
    /// to `old_chat`, a new `chat`, the rows copied, `old_chat` dropped),
    /// which is one change of `chat` that keeps its rows.
    func testABadCreateDateAndATableSetAsideAndMadeAgain() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try FileManager.default.copyItem(atPath: Self.project, toPath: cli.path("proj"))
        for file in try FileManager.default.contentsOfDirectory(atPath: cli.path("proj/migrations/versions")) where file.hasSuffix(".py") {
            try FileManager.default.removeItem(atPath: cli.path("proj/migrations/versions/\(file)"))
        }
        try cli.write("proj/migrations/versions/a1_chat.py", """
            \"\"\"chat

            Revision ID: a1
            Create Date: 2023-21-02 10:00:00.000000
            \"\"\"
            from alembic import op
            import sqlalchemy as sa
            revision = "a1"
            down_revision = None
            def upgrade():
                op.create_table("chat", sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.Text))

            """)
        try cli.write("proj/migrations/versions/b2_archive.py", """
            \"\"\"archive chats

            Revision ID: b2
            Revises: a1
            Create Date: 2023-02-22 10:00:00.000000
            \"\"\"
            from alembic import op
            import sqlalchemy as sa
            revision = "b2"
            down_revision = "a1"
            def upgrade():
                op.rename_table("chat", "old_chat")
                op.create_table("chat", sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.Text),
                                sa.Column("archived", sa.Integer, nullable=False, server_default="0"))
                op.execute("INSERT INTO chat (id, title) SELECT id, title FROM old_chat")
                op.drop_table("old_chat")

            """)
        let r = try cli.ok("import", "alembic", "proj")
        XCTAssertEqual(r.lines.first, "imported 2 migrations as 2 events (0 renames kept, 0 data steps, 0 skipped with nothing to record)")
        XCTAssertEqual(r.stderr, "warning: alembic revision a1 (chat): migrations/versions/a1_chat.py: `Create Date: 2023-21-02 10:00:00.000000` is not a date "
            + "(month must be in 1..12); its time is taken from its place in the history\n")
        let history = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json").stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(history.map { $0["summary"] as? [String] }, [["add column chat.archived INTEGER"], ["create table chat (id, title)"]])
        XCTAssertEqual(history.map { $0["timestamp"] as? String }, ["2023-02-22T10:00:00.000Z", "1970-01-01T00:00:01.000Z"])
        let first = try XCTUnwrap(history.last?["id"] as? String)
        try cli.ok("upgrade", first)
        _ = try cli.sqlite("app.db", "INSERT INTO chat VALUES (1, 'hello')")
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT id, title, archived FROM chat"), "1|hello|0")
        try cli.ok("downgrade", "-1")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT * FROM chat"), "1|hello")
    }
}
