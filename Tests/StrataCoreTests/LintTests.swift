import StrataCore
import XCTest

/// The static findings of `strata lint`: exact codes, ops and messages.
final class LintTests: XCTestCase {
    static let users = Table(name: "users", columns: [
        Column(name: "id", type: "INTEGER"), Column(name: "email", type: "TEXT"), Column(name: "nick", type: "TEXT"), Column(name: "code", type: "TEXT"),
    ], constraints: TableConstraints(primaryKey: ["id"]))
    static let before: Schema = {
        var s = Schema()
        s.tables = ["users": users, "notes": Table(name: "notes", columns: [Column(name: "body", type: "TEXT")])]
        s.views = ["v": View(name: "v", sql: "CREATE VIEW v AS SELECT nick FROM users")]
        return s
    }()

    func findings(_ ops: [Op], before: Schema = LintTests.before, earlier: [Event] = []) throws -> [String] {
        let e = Event(parents: [], author: "a", timestamp: 0, message: "m", ops: ops)
        return try Lint.findings(of: e, before: before, earlier: earlier).map { "\($0.level.rawValue) \($0.code) op \($0.op + 1): \($0.message)" }
    }

    /// (A renamed table's views are rewritten by the fold itself: no BC105 there.)
    func testDestructiveAndBackwardIncompatibleChanges() throws {
        var email = Self.users.columns[1]
        email.notNull = true
        email.defaultValue = "''"
        var code = Self.users.columns[3]
        code.type = "INTEGER"
        XCTAssertEqual(try findings([
            .dropTable(Self.before.table("notes")!, indexes: [], triggers: []),
            .alterColumn(table: "users", from: Self.users.columns[1], to: email),
            .alterColumn(table: "users", from: Self.users.columns[3], to: code),
            .renameTable(from: "users", to: "people"),
            .exec(forward: "UPDATE people SET code = 0", reverse: nil),
        ]), [
            "warning DS101 op 1: table notes is dropped with its rows",
            "warning BC103 op 1: table notes is dropped: an application still deployed may read it",
            "warning DS104 op 2: column users.email becomes NOT NULL DEFAULT '': its NULLs become ''",
            "warning DS103 op 3: column users.code changes type TEXT -> INTEGER, TEXT to INTEGER affinity: stored values are converted",
            "warning BC101 op 4: table users is renamed to people: an application still deployed reads users",
            "warning IR101 op 5: the data step `UPDATE people SET code = 0` has no reverse SQL",
        ])
    }

    func testARenameThatAnEarlierDataStepStillNames() throws {
        let seed = Event(parents: [], author: "a", timestamp: 0, message: "seed", ops: [.exec(forward: "UPDATE users SET nick = lower(nick)", reverse: nil)])
        XCTAssertEqual(try findings([.renameColumn(table: "users", from: "nick", to: "handle")], earlier: [seed]), [
            "warning BC102 op 1: column users.nick is renamed to handle: an application still deployed reads nick",
            "error BC105 op 1: view v still names users.nick; rewrite it in the same revision",
            "warning BC106 op 1: an earlier data step names users.nick",
        ])
        // A change that touches none of it has nothing to say.
        XCTAssertEqual(try findings([.createIndex(Index(name: "ix", table: "users", terms: ["email"]))]), [])
    }

    func testAForeignKeyToColumnsThatAreNotAKeyIsBroken() throws {
        let orgs = Table(name: "orgs", columns: [Column(name: "id", type: "INTEGER"), Column(name: "code", type: "TEXT")],
                         constraints: TableConstraints(primaryKey: ["id"]))
        let members = Table(name: "members", columns: [Column(name: "org", type: "TEXT")],
                            constraints: TableConstraints(foreignKeys: [ForeignKey(columns: ["org"], referencedTable: "orgs", referencedColumns: ["code"])]))
        var before = Schema()
        before.tables = ["orgs": orgs]
        XCTAssertEqual(try findings([.createTable(members, indexes: [], triggers: [])], before: before), [
            "error BK101 op 1: members(org) references orgs(code), which is neither the PRIMARY KEY of orgs nor UNIQUE, so SQLite refuses every write "
                + "to members (\"foreign key mismatch\"): make orgs(code) UNIQUE (or its primary key), or reference the primary key of orgs",
        ])
        // A unique index on exactly the referenced columns makes it valid.
        var fixed = before
        fixed.indexes["ux"] = Index(name: "ux", table: "orgs", unique: true, terms: ["code"])
        XCTAssertEqual(try findings([.createTable(members, indexes: [], triggers: [])], before: fixed), [])
        XCTAssertEqual(fixed.applyingOrNil(.createTable(members, indexes: [], triggers: []))?.brokenForeignKeys(), [String]())
    }

    func testEveryCodeIsDocumentedOnce() {
        XCTAssertEqual(Set(Lint.codes.map(\.code)).count, Lint.codes.count)
    }
}

extension Schema {
    func applyingOrNil(_ op: Op) -> Schema? { try? applying(op) }
}
