import StrataCore
import StrataSQLite
import XCTest

/// The exact SQL the planner emits for one op of every kind and for its
/// inverse, labels included, as `--sql` prints it (Atlas's plan tests do
/// the same). Each case is also run both ways on a real database, which
/// must end where the fold says.
final class PlannerGoldenTests: XCTestCase {
    struct Case {
        let kind: Op.Kind
        let before: String
        let after: String
        var renames: [String] = []
        /// An op no diff makes (a data step), given as it is.
        var op: Op? = nil
        let up: String
        let down: String
    }

    static let base = """
        CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, email TEXT);
        CREATE TABLE posts (id INTEGER PRIMARY KEY, uid INTEGER REFERENCES users(id));
        CREATE INDEX ix_posts_uid ON posts (uid);
        CREATE VIEW v_names AS SELECT name FROM users;
        CREATE TRIGGER tr_posts AFTER INSERT ON posts BEGIN SELECT 1; END;
        CREATE VIRTUAL TABLE search USING fts5(title, body);
        """

    /// `base` with `old` replaced by `new`.
    static func edited(_ old: String, _ new: String) -> String {
        precondition(base.contains(old), old)
        return base.replacingOccurrences(of: old, with: new)
    }

    static let cases: [Case] = GoldenCases.all

    func models(_ ddl: String) throws -> Schema { try Models.schema(fromDDL: ddl, source: "golden") }

    func testEveryOpKindHasAGoldenCase() {
        XCTAssertEqual(Set(Self.cases.map(\.kind)), Set(Op.Kind.allCases))
    }

    /// The whole script `upgrade --sql` prints: the run's frame, strata's own
    /// tables, each event's statements under its id, the bookkeeping.
    func testTheScriptOfAWholePlan() throws {
        let e = Event(parents: [], author: "ana", timestamp: 0, message: "tags",
                      ops: [.createTable(Table(name: "tags", columns: [Column(name: "id", type: "INTEGER")],
                                               constraints: TableConstraints(primaryKey: ["id"])), indexes: [], triggers: [])])
        let context = MigrationContext(appliedBy: "ana", node: "n1", now: 0)
        let plan = try Migrator.plan(start: .empty, from: nil, to: e.id, steps: [MigrationStep(e, .up)], context: context)
        let body = e.body.canonicalString.replacingOccurrences(of: "'", with: "''")
        let inverse = JSON.array(e.ops.inverted.map(\.json)).canonicalString
        XCTAssertEqual(plan.script, """
            -- strata: base -> \(e.id)
            PRAGMA foreign_keys = OFF;
            BEGIN IMMEDIATE;
            -- strata's own tables, if missing
            \(Bookkeeping.createTables.joined(separator: ";\n"));

            -- event \(e.id)
            -- create table tags
            CREATE TABLE tags (
                id INTEGER PRIMARY KEY
            );
            -- keep a copy of the event
            INSERT OR IGNORE INTO strata_events (id, body, inverse) VALUES ('\(e.id)', '\(body)', '\(inverse)');
            -- record it in the history
            INSERT INTO strata_history (revision, direction, applied_at, applied_by, node) VALUES ('\(e.id)', 'up', '1970-01-01T00:00:00.000Z', 'ana', 'n1');
            -- set the database's revision
            INSERT INTO strata_version (id, revision, updated_at) VALUES (1, '\(e.id)', '1970-01-01T00:00:00.000Z') ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, updated_at = excluded.updated_at;
            PRAGMA foreign_key_check;
            COMMIT;

            """)
    }

    func testTheExactSQLOfEveryOpKindAndItsInverse() throws {
        for c in Self.cases {
            let before = try models(c.before), after = try models(c.after)
            var hints = RenameHints()
            for r in c.renames { try hints.add(r) }
            let ops = try c.op.map { [$0] } ?? before.diff(to: after, renames: hints)
            XCTAssertEqual(ops.map(\.kind), [c.kind], "\(c.kind): the diff gives exactly one op of the kind")
            guard ops.count == 1 else { continue }
            let up = PlannedStatement.script(try Planner.statements(for: ops, in: before))
            let down = PlannedStatement.script(try Planner.statements(for: ops.inverted, in: after))
            XCTAssertEqual(up, c.up + "\n", "\(c.kind) up:\n\(up)")
            XCTAssertEqual(down, c.down + "\n", "\(c.kind) down:\n\(down)")

            // The same statements on a real database reach the fold's state, and come back.
            let db = try TargetDatabase(path: ":memory:")
            try db.create(before)
            try db.connection.execute("INSERT INTO users (name, email) VALUES ('ana', 'a@x'); INSERT INTO posts (uid) VALUES (1)")
            for s in try Planner.statements(for: ops, in: before) { try db.connection.execute(s.sql) }
            XCTAssertEqual(try db.schema(), after, "\(c.kind): up reaches the state after")
            for s in try Planner.statements(for: ops.inverted, in: after) { try db.connection.execute(s.sql) }
            XCTAssertEqual(try db.schema(), before, "\(c.kind): down restores the state before")
            XCTAssertEqual(try db.connection.scalar("SELECT count(*) FROM users")?.int, 1, "\(c.kind): rows survive")
        }
    }
}
