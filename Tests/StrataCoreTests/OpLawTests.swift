import StrataCore
import XCTest

final class OpLawTests: XCTestCase {
    /// A new op kind must get a fixture here, so every law below covers it.
    func testTheFixturesCoverEveryOpKind() {
        XCTAssertEqual(Fixtures.opsOfEveryKind.map(\.kind), Op.Kind.allCases)
        for op in Fixtures.opsOfEveryKind + Fixtures.opsOfEveryKind.map(\.inverse) {
            XCTAssertEqual(op.json["op"], .string(op.kind.rawValue), "the encoder writes the kind's name")
        }
    }

    func testAnUnknownOpKindIsRefusedByName() {
        XCTAssertThrowsError(try Op(json: .object(["op": "splitTable"]))) {
            XCTAssertEqual("\($0)", "unknown op \"splitTable\" (written by a newer strata? upgrade this one)")
        }
    }

    func testInverseOfInverseIsIdentityForEveryKind() {
        for op in Fixtures.opsOfEveryKind {
            XCTAssertEqual(op.inverse.inverse, op, op.summary)
            XCTAssertNotEqual(op.inverse, op, op.summary)
        }
    }

    func testApplyThenInverseGivesTheStateBack() throws {
        let s = Fixtures.schema
        // dropColumn of email needs its UNIQUE constraint gone first.
        var withoutUnique = s
        var u = Fixtures.users
        u.constraints.uniques = []
        withoutUnique.tables["users"] = u
        withoutUnique.indexes["ix_users_name"] = nil
        for op in Fixtures.opsOfEveryKind {
            let start = { if case .dropColumn = op { return withoutUnique } else { return s } }()
            let after = try start.applying(op)
            // A data step changes rows, never the schema.
            if case .exec = op { XCTAssertEqual(after, start, op.summary) } else { XCTAssertNotEqual(after, start, op.summary) }
            XCTAssertEqual(try after.applying(op.inverse), start, op.summary)
        }
    }

    func testEveryOpSurvivesItsJSONForm() throws {
        for op in Fixtures.opsOfEveryKind + Fixtures.opsOfEveryKind.map(\.inverse) {
            XCTAssertEqual(try Op(json: try JSON.parse(op.json.canonicalString)), op)
        }
    }

    func testFailedPreconditionsAreErrorsNeverSkipped() {
        let s = Fixtures.schema
        XCTAssertThrowsError(try s.applying(.addColumn(table: "users", column: Fixtures.email, position: 3))) {
            XCTAssertEqual("\($0)", "cannot add column users.email: it exists")
        }
        XCTAssertThrowsError(try s.applying(.dropTable(Table(name: "nope", columns: [Fixtures.id]), indexes: [], triggers: []))) {
            XCTAssertEqual("\($0)", "cannot drop table nope: no such table")
        }
        XCTAssertThrowsError(try s.applying(.dropColumn(table: "users", column: Fixtures.email, position: 2))) {
            XCTAssertEqual("\($0)", "cannot drop column users.email: it has a UNIQUE constraint")
        }
        // A before-image that does not match is refused: the inverse would be wrong.
        let wrong = Column(name: "email", type: "TEXT")
        XCTAssertThrowsError(try s.applying(.alterColumn(table: "users", from: wrong, to: Fixtures.email))) {
            XCTAssertEqual("\($0)", "cannot alter column users.email: its definition differs from the one recorded")
        }
    }

    func testRenameTableRewritesReferences() throws {
        let s = try Fixtures.schema.applying(.renameTable(from: "users", to: "people"))
        XCTAssertEqual(s.table("posts")?.constraints.foreignKeys.first?.referencedTable, "people")
        XCTAssertEqual(s.indexes["ix_users_name"]?.table, "people")
        XCTAssertEqual(s.views["v_users"]?.sql, "CREATE VIEW v_users AS SELECT id, name FROM people")
    }

    func testRenameColumnRewritesConstraintsIndexesAndChildForeignKeys() throws {
        let s = try Fixtures.schema.applying(.renameColumn(table: "users", from: "id", to: "uid"))
        XCTAssertEqual(s.table("users")?.constraints.primaryKey, ["uid"])
        XCTAssertEqual(s.table("posts")?.constraints.foreignKeys.first?.referencedColumns, ["uid"])
        let t = try Fixtures.schema.applying(.renameColumn(table: "users", from: "name", to: "fullname"))
        XCTAssertEqual(t.table("users")?.constraints.checks, ["length(fullname) > 0"])
        XCTAssertEqual(t.indexes["ix_users_name"]?.terms, ["fullname"])
    }
}
