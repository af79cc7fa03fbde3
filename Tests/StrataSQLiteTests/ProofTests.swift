import StrataCore
import StrataSQLite
import StrataStore
import XCTest

/// `revision` proves each new event in a scratch database before appending
/// it: its ops must reach the models schema, its SQL must produce it, and
/// its inverse must bring the previous schema back.
final class ProofTests: XCTestCase {
    let users = Table(name: "users", columns: [Column(name: "id", type: "INTEGER"), Column(name: "name", type: "TEXT")],
                      constraints: TableConstraints(primaryKey: ["id"]))

    func testAGoodEventPasses() throws {
        var expected = Schema()
        expected.tables["users"] = users
        let e = Event(parents: [], author: "t", timestamp: 1, message: "m", ops: [.createTable(users, indexes: [], triggers: [])])
        XCTAssertNoThrow(try Project.prove(e, before: .empty, expected: expected))
    }

    func testOpsThatMissTheModelsAreRefused() {
        var expected = Schema()
        expected.tables["users"] = users
        let e = Event(parents: [], author: "t", timestamp: 1, message: "m", ops: [])
        XCTAssertThrowsError(try Project.prove(e, before: .empty, expected: expected)) {
            XCTAssertTrue("\($0)".contains("do not reach the models schema; nothing was recorded"), "\($0)")
        }
    }

    /// The fold and SQLite disagree (a view recorded as `w` whose statement
    /// creates `v`): SQLite's parser, asked what the statement creates, shows it.
    func testSQLThatDoesNotProduceTheModelsIsRefused() {
        let view = View(name: "w", sql: "CREATE VIEW v AS SELECT 1")
        var expected = Schema()
        expected.views["w"] = view
        let e = Event(parents: [], author: "t", timestamp: 1, message: "m", ops: [.createView(view)])
        XCTAssertThrowsError(try Project.prove(e, before: .empty, expected: expected)) {
            XCTAssertTrue("\($0)".contains("the SQL of view w `CREATE VIEW v AS SELECT 1` is not one CREATE VIEW of w"), "\($0)")
        }
    }
}
