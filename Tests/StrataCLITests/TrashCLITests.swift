import Foundation
import XCTest

/// Lossless downgrades through the CLI: `upgrade` says what it kept,
/// `downgrade` brings it back (`--fill` for rows with nothing kept),
/// `strata trash` lists and purges, `keep_dropped_data = false` turns it off.
final class TrashCLITests: XCTestCase {
    /// A project at a revision that dropped users.nick (NOT NULL, no
    /// default) from a table with two rows.
    func droppedNick() throws -> (CLI, String) {
        let cli = try CLI()
        cli.env["STRATA_NOW"] = "2026-01-02T03:04:05.000Z"
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, nick TEXT NOT NULL);\n")
        try cli.ok("revision", "--autogenerate", "-m", "users")
        try cli.ok("upgrade", "head")
        _ = try cli.sqlite("app.db", "INSERT INTO users VALUES (1, 'ana', 'a'), (2, 'bo', 'b')")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n")
        let r = try cli.ok("revision", "--autogenerate", "-m", "no nicks")
        let head = String(r.lines[0].prefix(12))
        XCTAssertEqual(r.stderr, "warning: users.nick is NOT NULL without a default: a downgrade of this revision brings its values back from what the upgrade keeps "
            + "in each database (`strata trash`); rows added after the upgrade need `downgrade --fill VALUE`\n"
            + "warning: DS102 (\(head), op 1): column users.nick is dropped with its values\n"
            + "warning: BC104 (\(head), op 1): column users.nick is dropped: an application still deployed may read it\n")
        return (cli, head)
    }

    func testAnUpgradeKeepsWhatItDropsAndTheDowngradeBringsItBack() throws {
        let (cli, head) = try droppedNick()
        let up = try cli.ok("upgrade", "head")
        XCTAssertEqual(up.lines.last, "  kept 2 rows of users.nick (dropped column) for a way back; `strata trash --purge \(head)` deletes them")
        let listed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try cli.ok("trash", "--json").stdout.utf8)) as? [String: Any])
        let stash = try XCTUnwrap(((listed["databases"] as? [[String: Any]])?.first?["stashes"] as? [[String: Any]])?.first)
        XCTAssertEqual(stash["what"] as? String, "users.nick (dropped column)")
        XCTAssertEqual(stash["rows"] as? Int, 2)
        XCTAssertEqual(stash["kept_at"] as? String, "2026-01-02T03:04:05.000Z")
        XCTAssertEqual(try cli.ok("trash").lines.first, "\(cli.path("app.db")): keeps 2 rows in 1 stash")

        // A row added after the upgrade has no nick to come back to: refused, nothing changed.
        _ = try cli.sqlite("app.db", "INSERT INTO users VALUES (3, 'cy')")
        let before = try cli.sqlite("app.db", ".dump")
        let refused = try cli.run("downgrade", "-1")
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("column users.nick is NOT NULL without a default, and nothing was kept of it for 1 row of users "
            + "(rows inserted after it was dropped, or its data was not kept); pass --fill VALUE to give them one, or delete those rows first"), refused.stderr)
        XCTAssertEqual(try cli.sqlite("app.db", ".dump"), before)

        try cli.ok("downgrade", "-1", "--fill", "unknown")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT id, name, nick FROM users ORDER BY id"), "1|ana|a\n2|bo|b\n3|cy|unknown")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT type, \"notnull\" FROM pragma_table_info('users') WHERE name = 'nick'"), "TEXT|1")
        XCTAssertEqual(try cli.ok("trash").lines.first, "\(cli.path("app.db")): keeps nothing")
        try cli.ok("check")
    }

    /// The way down keeps what it destroys of what the way up created (a
    /// table's rows, a column's values), and the way up again brings it
    /// back: v2 -> v1 -> v2 loses nothing.
    func testDownAndUpAgainLosesNothing() throws {
        let cli = try CLI()
        cli.env["STRATA_NOW"] = "2026-01-02T03:04:05.000Z"
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n")
        try cli.ok("revision", "--autogenerate", "-m", "v1")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT);\nCREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER);\n")
        let v2 = String(try cli.ok("revision", "--autogenerate", "-m", "v2").lines[0].prefix(12))
        try cli.ok("upgrade", "head")
        _ = try cli.sqlite("app.db", "INSERT INTO users VALUES (1, 'ana', 'ana@example.com'), (2, 'bo', NULL); INSERT INTO orders VALUES (7, 42), (8, 5)")
        let down = try cli.ok("downgrade", "-1")
        XCTAssertEqual(down.lines.filter { $0.hasPrefix("  kept") }, [
            "  kept 2 rows of users.email (dropped column) for a way back; `strata trash --purge \(v2)` deletes them",
            "  kept 2 rows of table orders (dropped) for a way back; `strata trash --purge \(v2)` deletes them",
        ], down.stdout)
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*) FROM sqlite_master WHERE name = 'orders'"), "0")
        try cli.ok("check")
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT * FROM orders ORDER BY id"), "7|42\n8|5")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT id, name, email FROM users ORDER BY id"), "1|ana|ana@example.com\n2|bo|")
        XCTAssertEqual(try cli.ok("trash").lines.first, "\(cli.path("app.db")): keeps nothing")
        try cli.ok("check")
        // A database no downgrade touched upgrades with no restoring statement.
        XCTAssertFalse(try cli.ok("upgrade", "head", "--db", "fresh.db", "--sql").stdout.contains("strata_trash_"), "nothing to restore")
    }

    func testPurgedDataDoesNotComeBackAndTheDowngradeSaysSo() throws {
        let (cli, head) = try droppedNick()
        try cli.ok("upgrade", "head")
        let purged = try cli.ok("trash", "--purge", head)
        XCTAssertEqual(purged.lines.first, "\(cli.path("app.db")): purged 2 rows in 1 stash")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*) FROM sqlite_master WHERE name LIKE 'strata_trash_%'"), "0")
        let down = try cli.ok("downgrade", "-1", "--fill", "0")
        XCTAssertEqual(down.lines.last, "  warning: users.nick comes back without its old data: none was kept (keep_dropped_data = false, or purged)")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT group_concat(quote(nick)) FROM users"), "'0','0'", "stored as the TEXT column stores a number")

        let unknown = try cli.run("trash", "--purge", "nothing")
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.stderr, "error: unknown revision nothing; `strata trash` lists the events that have kept data\n")
    }

    func testKeepingCanBeTurnedOff() throws {
        let (cli, _) = try droppedNick()
        try cli.write("strata.toml", try cli.read("strata.toml") + "keep_dropped_data = false\n")
        let up = try cli.ok("upgrade", "head")
        XCTAssertFalse(up.stdout.contains("kept"), up.stdout)
        XCTAssertEqual(try cli.ok("trash").lines.first, "\(cli.path("app.db")): keeps nothing")
        try cli.write("strata.toml", try cli.read("strata.toml").replacingOccurrences(of: "keep_dropped_data = false", with: "keep_dropped_data = \"no\""))
        let bad = try cli.run("trash")
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("keep_dropped_data"), bad.stderr)
    }

    /// A revision recorded with --purge-dropped keeps nothing in any
    /// database, says so in `show`, and the mark is part of the event (its id
    /// covers it; events without it keep their old ids).
    func testAnEventMarkedPurgeDroppedIsNeverKept() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, ssn TEXT);\n")
        try cli.ok("revision", "--autogenerate", "-m", "users")
        try cli.ok("upgrade", "head")
        _ = try cli.sqlite("app.db", "INSERT INTO users VALUES (1, '123-45-6789')")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
        try cli.ok("revision", "--autogenerate", "-m", "forget ssn", "--purge-dropped")
        XCTAssertTrue(try cli.ok("show", "head").lines.contains("dropped  never kept (--purge-dropped): a downgrade brings the schema back without the data"))
        let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try cli.ok("show", "head", "--json").stdout.utf8)) as? [String: Any])
        XCTAssertEqual(body["purgeDropped"] as? Bool, true)
        let up = try cli.ok("upgrade", "head")
        XCTAssertFalse(up.stdout.contains("kept"), up.stdout)
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*) FROM sqlite_master WHERE name LIKE 'strata_trash_%'"), "0")
        XCTAssertEqual(try cli.ok("verify").status, 0)
        let refused = try cli.run("revision", "-m", "x", "--exec", "DELETE FROM users", "--purge-dropped")
        XCTAssertEqual(refused.status, 2)
    }
}
