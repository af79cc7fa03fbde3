import XCTest
import StrataCore
@testable import StrataSQLite

/// SQL text inside ops is what its place says (SQLite's parser decides), and
/// what runs is confined by SQLite's authorizer.
final class ConfinementTests: XCTestCase {
    let users = Table(name: "users", columns: [Column(name: "id", type: "INTEGER"), Column(name: "name", type: "TEXT")],
                      constraints: TableConstraints(primaryKey: ["id"]))

    func problem(_ op: Op) throws -> String? {
        do { try FragmentChecker().check([op]) } catch let e as UnsafeFragment { return e.description }
        return nil
    }

    func testExpressionsAreExactlyOneExpression() throws {
        let checker = try FragmentChecker()
        for ok in ["name IS NOT NULL", "lower(name)", "name COLLATE NOCASE", "id IN (SELECT 1)", "CURRENT_TIMESTAMP", "'a;b'", "abc", "-1",
                   "(json_array())", "CASE WHEN id > 0 THEN 'p' ELSE 'n' END", "\"x)\" = 1"] {
            XCTAssertNil(checker.expressionProblem(ok), ok)
        }
        XCTAssertEqual(checker.expressionProblem("1; DELETE FROM users"), "holds more than one statement")
        XCTAssertEqual(checker.expressionProblem("1) OR (1"), "closes a parenthesis it did not open")
        XCTAssertEqual(checker.expressionProblem("(1"), "leaves a parenthesis open")
        XCTAssertEqual(checker.expressionProblem(""), "is not an expression")
        XCTAssertEqual(checker.expressionProblem("1 2"), "is not one expression (SQLite: near \"2\": syntax error)")
        XCTAssertEqual(checker.expressionProblem("1 UNION SELECT 2"), "is not one expression (SQLite: near \"UNION\": syntax error)")
    }

    func testTypesAreTypeNames() {
        for ok in ["", "TEXT", "VARCHAR(50)", "VARCHAR (50)", "DECIMAL(10, 2)", "UNSIGNED BIG INT", "NUMERIC(-1, +2)", "\"my type\"", "timestamp with time zone"] {
            XCTAssertNil(FragmentChecker.typeProblem(ok), ok)
        }
        XCTAssertNotNil(FragmentChecker.typeProblem("INTEGER PRIMARY KEY"))
        XCTAssertNotNil(FragmentChecker.typeProblem("TEXT); DROP TABLE users; --"))
        XCTAssertNotNil(FragmentChecker.typeProblem("TEXT DEFAULT (1)"))
        XCTAssertNotNil(FragmentChecker.typeProblem("VARCHAR(x)"))
        XCTAssertNotNil(FragmentChecker.typeProblem("VARCHAR(1, 2, 3)"))
    }

    func testAnOpNamesThePlaceAndTheFragment() throws {
        let index = Index(name: "ix_users_name", table: "users", terms: ["name"], predicate: "1; DELETE FROM users")
        XCTAssertEqual(try problem(.createIndex(index)),
                       "op 1 (create index ix_users_name on users): the WHERE of index ix_users_name `1; DELETE FROM users` holds more than one statement; "
                       + "strata runs only SQL that is what its place in an op says, so nothing was changed")
        var t = users
        t.columns[1].type = "TEXT); DELETE FROM users; --"
        XCTAssertEqual(try problem(.createTable(t, indexes: [], triggers: [])).map { String($0.prefix(82)) },
                       "op 1 (create table users (id, name)): the type of column users.name `TEXT); DELETE")
        var c = users.columns[1]
        c.collation = "NOCASE) ; DROP TABLE users"
        XCTAssertNotNil(try problem(.addColumn(table: "users", column: c, position: 2)))
        XCTAssertNil(try problem(.createTable(users, indexes: [Index(name: "i", table: "users", terms: ["lower(name) DESC"])], triggers: [])))
    }

    func testViewsTriggersAndVirtualTablesAreOneStatementOfTheirOwnName() throws {
        XCTAssertNil(try problem(.createView(View(name: "v", sql: "CREATE VIEW v AS SELECT * FROM nosuch"))))
        XCTAssertEqual(try problem(.createView(View(name: "v", sql: "CREATE VIEW v AS SELECT 1; DELETE FROM users"))).map { String($0.prefix(116)) },
                       "op 1 (create view v): the SQL of view v `CREATE VIEW v AS SELECT 1; DELETE FROM users` holds more than one statement")
        XCTAssertNotNil(try problem(.createView(View(name: "v", sql: "CREATE VIEW other AS SELECT 1"))))
        XCTAssertNotNil(try problem(.createView(View(name: "v", sql: "CREATE TEMP VIEW v AS SELECT 1"))))
        XCTAssertNotNil(try problem(.createView(View(name: "v", sql: "DROP TABLE users"))))
        let trigger = "CREATE TRIGGER tr AFTER INSERT ON users BEGIN UPDATE users SET name = 'x;y' WHERE id = NEW.id; END"
        XCTAssertNil(try problem(.createTrigger(Trigger(name: "tr", table: "users", sql: trigger))))
        XCTAssertNil(try problem(.createTrigger(Trigger(name: "tr", table: "v", sql: "CREATE TRIGGER tr INSTEAD OF INSERT ON v BEGIN SELECT 1; END"))))
        XCTAssertNotNil(try problem(.createTrigger(Trigger(name: "tr", table: "posts", sql: trigger))), "on another table")
        XCTAssertNotNil(try problem(.createTrigger(Trigger(name: "tr", table: "users", sql: trigger + "; DROP TABLE users"))))
        XCTAssertNotNil(try problem(.createTrigger(Trigger(name: "tr", table: "users", sql: trigger.replacingOccurrences(of: "CREATE TRIGGER", with: "CREATE TEMP TRIGGER")))))
        XCTAssertNil(try problem(.createVirtualTable(VirtualTable(name: "s", sql: "CREATE VIRTUAL TABLE s USING fts5(a, b)"))))
        XCTAssertNotNil(try problem(.createVirtualTable(VirtualTable(name: "s", sql: "CREATE VIRTUAL TABLE s USING fts5(a); DELETE FROM users"))))
    }

    func testDataStepsHoldOnlyStatementsThatChangeOrReadRows() throws {
        XCTAssertEqual(FragmentChecker.splitStatements("UPDATE t SET a = ';' ; -- x;y\nDELETE FROM \"a;b\";;/* ; */ INSERT INTO [c;d] VALUES (1)"),
                       ["UPDATE t SET a = ';'", "-- x;y\nDELETE FROM \"a;b\"", "/* ; */ INSERT INTO [c;d] VALUES (1)"])
        XCTAssertNil(try problem(.exec(forward: "UPDATE users SET name = 'x'; WITH d AS (SELECT 1) DELETE FROM users WHERE id IN d", reverse: nil)))
        for bad in ["COMMIT; ATTACH DATABASE '/tmp/x.db' AS x; BEGIN", "VACUUM INTO '/tmp/copy.db'", "PRAGMA writable_schema = ON",
                    "DROP TABLE users", "UPDATE users SET name = 'x'; CREATE TABLE t (x)"] {
            XCTAssertNotNil(try problem(.exec(forward: bad, reverse: nil)), bad)
            XCTAssertNotNil(try problem(.exec(forward: "SELECT 1", reverse: bad)), "the way back too: \(bad)")
        }
    }

    /// What runs is confined whatever got past the checks: SQLite's
    /// authorizer refuses, and says what the statement tried.
    func testTheAuthorizerConfinesWhatRuns() throws {
        let dir = try TempDir()
        let db = try Connection(path: dir.path("app.db"))
        try db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'a')")
        func refusal(_ policy: Confinement, _ sql: String) -> String? {
            do { try db.confined(policy) { try db.executeOne(sql) } } catch let e as ConfinementRefusal { return e.reason } catch { return "\(error)" }
            return nil
        }
        XCTAssertEqual(refusal(.data, "ATTACH DATABASE '\(dir.path("x.db"))' AS x"),
                       "refused `ATTACH DATABASE '\(dir.path("x.db"))' AS x`: it attaches or detaches a database, which no migration may do")
        XCTAssertEqual(refusal(.schema, "COMMIT"), "refused `COMMIT`: it controls the transaction, which is strata's: a run is one transaction")
        XCTAssertEqual(refusal(.schema, "PRAGMA writable_schema = ON"), "refused `PRAGMA writable_schema = ON`: it runs PRAGMA writable_schema, which no migration may run")
        XCTAssertEqual(refusal(.data, "DROP TABLE users"), "refused `DROP TABLE users`: it changes the schema, and a data step changes rows only")
        XCTAssertEqual(refusal(.data, "SELECT load_extension('x')"), "refused `SELECT load_extension('x')`: it calls load_extension(), which no migration may call")
        XCTAssertEqual(refusal(.data, "CREATE TEMP TABLE t (x)"), "refused `CREATE TEMP TABLE t (x)`: it changes the schema, and a data step changes rows only")
        XCTAssertEqual(refusal(.read, "DELETE FROM users"), "refused `DELETE FROM users`: it writes rows of users, and a check only reads")
        XCTAssertEqual(refusal(.data, "SELECT 1; DELETE FROM users"), "SQLite error 1: more than one statement, where strata runs exactly one - while executing `SELECT 1; DELETE FROM users`")
        XCTAssertNil(refusal(.data, "UPDATE users SET name = 'b'"))
        XCTAssertEqual(refusal(.schema, "CREATE TEMP TABLE t (x)"), "refused `CREATE TEMP TABLE t (x)`: it creates or drops a temporary object, which no migration may do")
        // What real data steps do (rauthy, shiori): set AUTOINCREMENT's
        // counter, and read a full-text table (whose module reads a PRAGMA).
        try db.execute("CREATE TABLE seq (id INTEGER PRIMARY KEY AUTOINCREMENT); CREATE VIRTUAL TABLE docs USING fts4(content); INSERT INTO docs VALUES ('x'); ANALYZE")
        XCTAssertNil(refusal(.data, "INSERT INTO sqlite_sequence (name, seq) VALUES ('seq', 99999)"))
        XCTAssertNil(refusal(.data, "UPDATE users SET name = d.content FROM (SELECT docid, content FROM docs) AS d WHERE users.id = d.docid"))
        XCTAssertEqual(refusal(.data, "INSERT INTO sqlite_stat1 VALUES ('users', NULL, '1')").map { String($0.suffix(35)) }, "a table of SQLite's or strata's own")
        XCTAssertNil(refusal(.schema, "CREATE INDEX ix ON users (name)"))
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM users")?.int, 1, "the DELETE never ran")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("x.db")))
        // Outside a confinement, strata's own statements run as before.
        try db.execute("SAVEPOINT s; RELEASE s")
    }
}
