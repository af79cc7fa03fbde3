import StrataCore
import XCTest

final class DiffTests: XCTestCase {
    func testEqualSchemasGiveNoOps() throws {
        XCTAssertEqual(try Fixtures.schema.diff(to: Fixtures.schema), [])
    }

    func testFromEmptyCreatesReferencedTablesFirstAndReachesTheTarget() throws {
        let ops = try Schema.empty.diff(to: Fixtures.schema)
        XCTAssertEqual(ops.map(\.summary), [
            "create table users (id, name, email) with 1 index",
            "create table posts (id, uid)",
            "create virtual table search",
            "create view v_users",
            "create trigger tr_posts on posts",
        ])
        XCTAssertEqual(try Schema.empty.applying(ops), Fixtures.schema)
    }

    func testDroppingEverythingDropsChildrenFirst() throws {
        let ops = try Fixtures.schema.diff(to: .empty)
        XCTAssertEqual(ops.map(\.summary), ["drop view v_users", "drop virtual table search", "drop table posts", "drop table users"])
        XCTAssertEqual(try Fixtures.schema.applying(ops), .empty)
        // The way back is derived, and reaches the start again.
        XCTAssertEqual(try Schema.empty.applying(ops.inverted), Fixtures.schema)
    }

    func testRenameHintTurnsDropAndAddIntoARename() throws {
        var target = Fixtures.schema
        var u = Fixtures.users
        u.columns[2].name = "mail"
        u.constraints.uniques = [["mail"]]
        target.tables["users"] = u
        target.indexes["ix_users_name"]?.predicate = "mail IS NOT NULL"
        XCTAssertEqual(try Fixtures.schema.diff(to: target).map(\.summary), [
            "drop index ix_users_name", "add column users.mail VARCHAR(120)", "alter constraints of users: unique",
            "drop column users.email", "create index ix_users_name on users",
        ])
        var hints = RenameHints()
        try hints.add("users.email=mail")
        XCTAssertEqual(try Fixtures.schema.diff(to: target, renames: hints).map(\.summary), ["rename column users.email to mail"])
    }

    /// A name holding `.` or `=` is quoted as in SQL; `""` is a `"` inside one.
    func testRenameSpecsQuoteNames() throws {
        var hints = RenameHints()
        try hints.add("t.\"special.column\"=special_column")
        try hints.add("\"a=b\"=\"c.d\"")
        try hints.add("t.\"say \"\"hi\"\"\"=hi")
        XCTAssertEqual(hints, RenameHints(tables: [(from: "a=b", to: "c.d")],
                                          columns: [(table: "t", from: "special.column", to: "special_column"), (table: "t", from: "say \"hi\"", to: "hi")]))
    }

    /// A name that changes only in case is a rename SQLite does not see
    /// (real projects: `USERS` -> `users`, `"UserName"` -> `username`);
    /// before, the diff stopped with an internal error.
    func testANameThatChangesOnlyInCaseIsARename() throws {
        var target = Fixtures.schema
        var u = Fixtures.users
        u.name = "USERS"
        u.columns[1].name = "NAME"
        target.tables["users"] = u
        target.indexes = target.indexes.mapValues { i in var i = i; if i.table == "users" { i.table = "USERS" }; return i }
        let ops = try Fixtures.schema.diff(to: target)
        XCTAssertEqual(ops.map(\.summary), ["rename table users to USERS", "rename column USERS.name to NAME"])
        let applied = try Fixtures.schema.applying(ops)
        XCTAssertEqual(applied, target)
        // SQLite rewrites the view's text as well (and so does the schema),
        // which the models need not repeat: no drop and recreate of the view.
        XCTAssertEqual(applied.views["v_users"]?.sql, "CREATE VIEW v_users AS SELECT id, name FROM USERS")
        XCTAssertEqual(try applied.diff(to: target), [])
    }

    /// A view's or trigger's text compares as SQLite reads it, except a
    /// result column's name after AS, which readers of the view see.
    func testViewTextComparesWithNamesFolded() {
        let v = View(name: "v", sql: "CREATE VIEW v AS SELECT id AS Id, \"name\" FROM users WHERE kind = 'A'")
        XCTAssertEqual(v, View(name: "v", sql: "create view v as select ID as Id, [NAME] from USERS where KIND = 'A'"))
        XCTAssertEqual(v.hashValue, View(name: "v", sql: "CREATE VIEW v AS SELECT ID AS Id, name FROM Users WHERE kind = 'A'").hashValue)
        XCTAssertNotEqual(v, View(name: "v", sql: "CREATE VIEW v AS SELECT id AS ID, name FROM users WHERE kind = 'A'"))
        XCTAssertNotEqual(v, View(name: "v", sql: "CREATE VIEW v AS SELECT id AS Id, name FROM users WHERE kind = 'a'"))
        let t = Trigger(name: "tr", table: "posts", sql: "CREATE TRIGGER tr AFTER INSERT ON posts BEGIN SELECT 1; END")
        XCTAssertEqual(t, Trigger(name: "tr", table: "POSTS", sql: "CREATE TRIGGER tr AFTER INSERT ON \"POSTS\" BEGIN SELECT 1; END"))
    }

    /// Keywords and names are folded and unquoted as SQLite reads them:
    /// a CHECK whose `in` became `IN` or a default written in another case
    /// is no change (before, a table rebuild).
    func testFragmentsCompareAsSQLiteReadsThem() throws {
        var a = Fixtures.users
        a.constraints.checks = [Check("status in ('a', 'b')")]
        a.columns[1].defaultValue = "current_timestamp"
        var b = a
        b.constraints.checks = [Check("STATUS IN ('a', 'b')")]
        b.columns[1].defaultValue = "CURRENT_TIMESTAMP"
        XCTAssertEqual(a, b)
        b.constraints.checks = [Check("status IN ('A', 'b')")]
        XCTAssertNotEqual(a, b, "strings are compared exactly")
        let i = Index(name: "u", table: "lists", unique: true, terms: ["`userId`", "[id]"])
        XCTAssertEqual(i, Index(name: "u", table: "LISTS", unique: true, terms: ["\"userid\"", "id"]))
        XCTAssertNotEqual(i, Index(name: "u", table: "lists", unique: true, terms: ["id", "userId"]))
        XCTAssertEqual(i.hashValue, Index(name: "u", table: "lists", unique: true, terms: ["userId", "id"]).hashValue)
    }

    func testColumnOrderIsAChange() throws {
        var target = Fixtures.schema
        var u = Fixtures.users
        u.columns.swapAt(1, 2)
        target.tables["users"] = u
        XCTAssertEqual(try Fixtures.schema.diff(to: target).map(\.summary), ["reorder columns of users: id, email, name"])
    }

    func testBadRenameSpecsAreRefused() {
        var hints = RenameHints()
        XCTAssertThrowsError(try hints.add("users.email")) {
            XCTAssertEqual("\($0)", "rename users.email: expected TABLE.OLD=NEW for a column or OLD=NEW for a table "
                + "(a name with . or = in double quotes: TABLE.\"OLD.NAME\"=NEW)")
        }
        for bad in ["a.b.c=d", "a=b.c", "\"a=b", "a\"b\"=c", "=x", "a.=b", "\"\"=b"] {
            XCTAssertThrowsError(try hints.add(bad), bad)
        }
        XCTAssertEqual(hints, RenameHints())
        XCTAssertThrowsError(try Fixtures.schema.diff(to: Fixtures.schema, renames: RenameHints(tables: [(from: "nope", to: "x")]))) {
            XCTAssertEqual("\($0)", "rename nope=x: there is no table nope at head")
        }
    }
}
