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
            XCTAssertEqual("\($0)", "--rename users.email: expected TABLE.OLD=NEW for a column or OLD=NEW for a table")
        }
        XCTAssertThrowsError(try Fixtures.schema.diff(to: Fixtures.schema, renames: RenameHints(tables: [(from: "nope", to: "x")]))) {
            XCTAssertEqual("\($0)", "--rename nope=x: there is no table nope at head")
        }
    }
}
