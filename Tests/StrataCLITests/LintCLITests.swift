import Foundation
import XCTest

/// `strata lint` on real databases with real counts, `revision --accept`,
/// `--ignore`, `--json`, and `upgrade` refusing a data-dependent error
/// before it changes anything.
final class LintCLITests: XCTestCase {
    /// A database with rows that the next revision's changes do not fit:
    /// a NULL email (NOT NULL without default), a duplicated email (UNIQUE),
    /// an org that does not exist (a new foreign key), short nicks (CHECK).
    func project() throws -> (CLI, String) {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", """
            CREATE TABLE orgs (id INTEGER PRIMARY KEY);
            CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, nick TEXT, org INTEGER, age TEXT);

            """)
        try cli.ok("revision", "--autogenerate", "-m", "one")
        try cli.ok("upgrade", "head")
        _ = try cli.sqlite("app.db", "INSERT INTO orgs VALUES (1); INSERT INTO users VALUES (1, NULL, 'ab', 1, '007'), (2, 'b@x', 'cd', 9, '12'), (3, 'b@x', 'e', 1, 'z')")
        try cli.write("models.sql", """
            CREATE TABLE orgs (id INTEGER PRIMARY KEY);
            CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, nick TEXT, org INTEGER REFERENCES orgs(id), age INTEGER,
                                CHECK (length(nick) > 1));
            CREATE UNIQUE INDEX ux ON users (email);

            """)
        let r = try cli.ok("revision", "--autogenerate", "-m", "two")
        // revision prints the static findings of what it records.
        XCTAssertEqual(r.stderr, "warning: DS103 (\(r.lines[0].prefix(12)), op 2): column users.age changes type TEXT -> INTEGER, TEXT to INTEGER affinity: stored values are converted\n")
        return (cli, String(r.lines[0].prefix(12)))
    }

    func testFindingsWithCountsFromTheDatabase() throws {
        let (cli, id) = try project()
        let db = cli.path("app.db")
        let r = try cli.run("lint")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, """
            error MF101 \(id) op 1 \(db): users.email is NULL in 1 row, and it becomes NOT NULL without a default: fill them first (a data step: UPDATE users SET email = ... WHERE email IS NULL), or give the column a default
            error MF102 \(id) op 4 \(db): users holds 1 value of (email) in more than one row, so unique index ux cannot be built: remove the duplicates first (a data step), or drop the uniqueness
            error MF103 \(id) op 3 \(db): users has 1 row whose org orgs does not hold, so the new foreign key would refuse them: delete or fix those rows first (a data step), or add the missing orgs rows
            error MF104 \(id) op 3 \(db): the new CHECK (length(nick) > 1) fails for 1 row of users: fix them first (a data step), or change the check
            warning DS103 \(id) op 2: column users.age changes type TEXT -> INTEGER, TEXT to INTEGER affinity: stored values are converted
            1 event: 4 errors, 1 warning

            """)
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT count(*) FROM users"), "3", "the dry run changed nothing")

        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try cli.run("lint", "--json", "--ignore", "MF104", "--ignore", "DS103").stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["errors"] as? Int, 3)
        XCTAssertEqual((json["findings"] as? [[String: Any]])?.compactMap { $0["code"] as? String }.sorted(), ["MF101", "MF102", "MF103"])

        // upgrade says the same before it runs, refuses at the first, and changes nothing.
        let before = try cli.sqlite("app.db", ".dump")
        let up = try cli.run("upgrade", "head")
        XCTAssertEqual(up.status, 2)
        XCTAssertTrue(up.stderr.contains("error: upgrade failed at event \(id): MF101: users.email is NULL in 1 row, and it becomes NOT NULL without a default"), up.stderr)
        XCTAssertEqual(try cli.sqlite("app.db", ".dump"), before)

        // Once the rows fit, lint finds only the warning and the upgrade goes through.
        _ = try cli.sqlite("app.db", "UPDATE users SET email = 'u' || id || '@x', nick = nick || nick, org = 1")
        XCTAssertEqual(try cli.ok("lint").lines.last, "1 event: 0 errors, 1 warning")
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT quote(age) FROM users ORDER BY id"), "7\n12\n'z'")
    }

    func testAcceptedAndIgnoredFindings() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, ssn TEXT);\n")
        try cli.ok("revision", "--autogenerate", "-m", "users")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
        let r = try cli.ok("revision", "--autogenerate", "-m", "forget ssn", "--accept", "BC104")
        let id = String(r.lines[0].prefix(12))
        XCTAssertEqual(r.stderr, """
            warning: DS102 (\(id), op 1): column users.ssn is dropped with its values
            accepted: BC104 (\(id), op 1): column users.ssn is dropped: an application still deployed may read it

            """)
        XCTAssertEqual(try cli.ok("lint").stdout, """
            warning DS102 \(id) op 1: column users.ssn is dropped with its values
            accepted BC104 \(id) op 1: column users.ssn is dropped: an application still deployed may read it
            1 event: 0 errors, 1 warning, 1 accepted

            """)
        XCTAssertEqual(try cli.ok("lint", "--ignore", "DS102", "--ignore", "BC104").stdout, "1 event: 0 errors, 0 warnings\n")
        let all = try cli.ok("lint", "\(try cli.ids().last!.prefix(8))..head")
        XCTAssertEqual(all.lines.last, "1 event: 0 errors, 1 warning, 1 accepted")
        let bad = try cli.run("revision", "--autogenerate", "-m", "x", "--accept", "XX999")
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("--accept XX999: not a finding code"), bad.stderr)
    }

    func testABrokenForeignKeyIsRefusedInWords() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", "CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT);\nCREATE TABLE c (id INTEGER PRIMARY KEY, code TEXT REFERENCES p(code));\n")
        let before = try cli.tree()
        let r = try cli.run("revision", "--autogenerate", "-m", "fk")
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "error: c(code) references p(code), which is neither the PRIMARY KEY of p nor UNIQUE, so SQLite refuses every write to c "
            + "(\"foreign key mismatch\"): make p(code) UNIQUE (or its primary key), or reference the primary key of p; nothing was recorded\n")
        XCTAssertEqual(try cli.tree(), before)
    }
}
