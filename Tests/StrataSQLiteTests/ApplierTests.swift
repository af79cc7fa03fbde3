import StrataCore
import StrataSQLite
import XCTest

final class ApplierTests: XCTestCase {
    let context = MigrationContext(appliedBy: "test", node: "n1", now: 1_764_000_000_000)

    func models(_ ddl: String) throws -> Schema { try Models.schema(fromDDL: ddl, source: "test") }

    func event(_ ops: [Op], parent: String? = nil) -> Event {
        Event(parents: parent.map { [$0] } ?? [], author: "t", timestamp: 1, message: "m", ops: ops)
    }

    /// Migrates `db` from `from` (state `start`) by the diff to `target`.
    @discardableResult
    func migrate(_ db: TargetDatabase, _ start: Schema, to target: Schema, renames: RenameHints = RenameHints(),
                 from: String? = nil) throws -> Event {
        let e = event(try start.diff(to: target, renames: renames), parent: from)
        let plan = try Migrator.plan(start: start, from: from, to: e.id, steps: [MigrationStep(e, .up)], context: context)
        try db.apply(plan)
        return e
    }

    /// SQLite folds only ASCII letters in names: `Ä` and `ä` are two
    /// tables there, and `Users` and `users` one. So are they here (the
    /// schema was keyed by Foundation's lowercasing, which took `Ä` and `ä`
    /// for one table and merged their columns).
    func testNamesFoldAsSQLiteFoldsThem() throws {
        let s = try models("CREATE TABLE \"Ä\" (x INTEGER);\nCREATE TABLE \"ä\" (y INTEGER);\nCREATE INDEX \"IÄ\" ON \"Ä\" (x);\n")
        XCTAssertEqual(Schema.byName(s.tables.values).map { "\($0.name)(\($0.columns.map(\.name).joined(separator: ",")))" }, ["Ä(x)", "ä(y)"])
        XCTAssertEqual(s.indexes(on: "Ä").map(\.name), ["IÄ"])
        XCTAssertEqual(s.indexes(on: "ä").map(\.name), [])
        XCTAssertEqual(try Schema.empty.diff(to: s).map(\.summary).sorted(), ["create table Ä (x) with 1 index", "create table ä (y)"])
        XCTAssertEqual(s.table("Ä"), s.table("Ä"))
        XCTAssertNotEqual(s.table("Ä"), s.table("ä"))
        XCTAssertEqual(SQLName("Users"), SQLName("uSERS"))
        XCTAssertNotEqual(SQLName("Ä"), SQLName("ä"))
        // A case-only rename is a rename, not a drop and a create.
        let renamed = try models("CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
        let before = try models("CREATE TABLE Users (id INTEGER PRIMARY KEY);\n")
        XCTAssertEqual(try before.diff(to: renamed).map(\.summary), ["rename table Users to users"])
    }

    func testRenderedDDLReadsBackAsTheSameModel() throws {
        let s = try models("""
            CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(50) NOT NULL DEFAULT 'x' COLLATE nocase,
              email TEXT DEFAULT '' UNIQUE, age INTEGER CHECK (age >= 0), n NUMERIC DEFAULT -1.5, ts TEXT DEFAULT CURRENT_TIMESTAMP,
              e TEXT DEFAULT (lower('A')), CHECK (length(name) > 0));
            CREATE TABLE posts (id INTEGER, uid INTEGER, b, PRIMARY KEY (id, uid), FOREIGN KEY (uid) REFERENCES users(id) ON DELETE CASCADE ON UPDATE SET NULL,
              FOREIGN KEY (b) REFERENCES users) WITHOUT ROWID;
            CREATE TABLE s (a INT, b TEXT) STRICT;
            CREATE UNIQUE INDEX ix ON users (lower(email) DESC, name COLLATE BINARY) WHERE age > 3;
            CREATE VIEW v AS SELECT  id,
               name FROM users -- comment
            ;
            CREATE TRIGGER tr AFTER INSERT ON posts BEGIN UPDATE users SET age = age + 1 WHERE id = NEW.uid; END;
            """)
        let users = try XCTUnwrap(s.table("users"))
        XCTAssertEqual(users.column("name")?.collation, "NOCASE")
        XCTAssertEqual(users.column("email")?.defaultValue, "''")
        XCTAssertEqual(users.column("n")?.defaultValue, "-1.5")
        XCTAssertEqual(users.constraints.checks, ["age >= 0", "length(name) > 0"])
        XCTAssertEqual(users.constraints.uniques, [["email"]])
        XCTAssertTrue(users.constraints.autoincrement)
        XCTAssertEqual(s.table("posts")?.constraints.foreignKeys.map(\.columns), [["b"], ["uid"]])
        XCTAssertEqual(s.table("posts")?.constraints.foreignKeys.map(\.onDelete), ["NO ACTION", "CASCADE"])
        XCTAssertEqual(s.table("posts")?.constraints.foreignKeys.map(\.onUpdate), ["NO ACTION", "SET NULL"])
        XCTAssertEqual(s.table("posts")?.constraints.foreignKeys.map(\.referencedColumns), [[], ["id"]])
        XCTAssertTrue(s.table("posts")!.constraints.withoutRowid)
        XCTAssertTrue(s.table("s")!.constraints.strict)
        XCTAssertEqual(s.indexes["ix"]?.terms, ["lower(email) DESC", "name COLLATE BINARY"])
        XCTAssertEqual(s.indexes["ix"]?.predicate, "age > 3")
        XCTAssertEqual(s.views["v"]?.sql, "CREATE VIEW v AS SELECT id, name FROM users")

        let rendered = try models(DDL.script(s).joined(separator: ";\n"))
        XCTAssertEqual(rendered, s)
    }

    func testWhatAlembicMissesIsSeen() throws {
        let base = try models("""
            CREATE TABLE p (id INTEGER PRIMARY KEY);
            CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 0, b TEXT, c TEXT, pid INTEGER REFERENCES p(id));
            CREATE INDEX ix ON t (b) WHERE a > 0;
            """)
        let variants: [(String, String)] = [
            ("column order", "CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT, a INTEGER DEFAULT 0, c TEXT, pid INTEGER REFERENCES p(id))"),
            ("ON DELETE", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 0, b TEXT, c TEXT, pid INTEGER REFERENCES p(id) ON DELETE CASCADE)"),
            ("CHECK", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 0 CHECK (a < 10), b TEXT, c TEXT, pid INTEGER REFERENCES p(id))"),
            ("COLLATE", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 0, b TEXT COLLATE NOCASE, c TEXT, pid INTEGER REFERENCES p(id))"),
            ("AUTOINCREMENT", "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a INTEGER DEFAULT 0, b TEXT, c TEXT, pid INTEGER REFERENCES p(id))"),
            ("0 vs '0'", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT '0', b TEXT, c TEXT, pid INTEGER REFERENCES p(id))"),
            ("UNIQUE after DEFAULT", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 0 UNIQUE, b TEXT, c TEXT, pid INTEGER REFERENCES p(id))"),
            ("DEFERRABLE", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 0, b TEXT, c TEXT, pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)"),
        ]
        let expected: [String: [String]] = [
            "column order": ["reorder columns of t: id, b, a, c, pid"],
            "ON DELETE": ["alter constraints of t: foreign keys"],
            "CHECK": ["alter constraints of t: checks"],
            "COLLATE": ["alter column t.b: collate BINARY -> NOCASE"],
            "AUTOINCREMENT": ["alter constraints of t: autoincrement"],
            "0 vs '0'": ["alter column t.a: default 0 -> '0'"],
            "UNIQUE after DEFAULT": ["alter constraints of t: unique"],
            "DEFERRABLE": ["alter constraints of t: foreign keys"],
        ]
        for (what, table) in variants {
            let target = try models("CREATE TABLE p (id INTEGER PRIMARY KEY);\n\(table);\nCREATE INDEX ix ON t (b) WHERE a > 0;")
            XCTAssertEqual(try base.diff(to: target).map(\.summary), expected[what], what)
        }
        let partial = try models("CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 0, b TEXT, c TEXT, pid INTEGER REFERENCES p(id)); CREATE INDEX ix ON t (b) WHERE a > 1;")
        XCTAssertEqual(try base.diff(to: partial).map(\.summary), ["drop index ix", "create index ix on t"])
    }

    /// As real projects' migrations write them: drizzle puts string defaults
    /// in double quotes, and types may have a space (`VARCHAR (64)`). Both
    /// are kept as written, and the type compared ignoring whitespace.
    func testDefaultsAndTypesAreKeptAsWritten() throws {
        let dir = try TempDir()
        let db = try TargetDatabase(path: dir.path("a.db"))
        let v1 = try models(#"CREATE TABLE t (id INTEGER PRIMARY KEY, kind VARCHAR (64) DEFAULT "text", n TEXT DEFAULT abc);"#)
        let t = try XCTUnwrap(v1.table("t"))
        XCTAssertEqual(t.column("kind")?.type, "VARCHAR (64)")
        XCTAssertEqual(t.column("kind")?.defaultValue, #""text""#)
        XCTAssertEqual(DDL.createTable(t), "CREATE TABLE t (\n    id INTEGER PRIMARY KEY,\n    kind VARCHAR (64) DEFAULT \"text\",\n    n TEXT DEFAULT abc\n)")
        try migrate(db, .empty, to: v1)
        XCTAssertEqual(try db.schema(), v1)
        XCTAssertEqual(try db.connection.scalar("SELECT type FROM pragma_table_info('t') WHERE name = 'kind'")?.string, "VARCHAR (64)")
        try db.connection.execute("INSERT INTO t (id) VALUES (1)")
        XCTAssertEqual(try db.connection.query("SELECT kind, n FROM t").first?.map(\.string), ["text", "abc"])

        // A space less in the type is no change; a column with a quoted default is added in place.
        let v2 = try models(#"CREATE TABLE t (id INTEGER PRIMARY KEY, kind VARCHAR(64) DEFAULT "text", n TEXT DEFAULT abc, m TEXT DEFAULT "x");"#)
        let ops = try v1.diff(to: v2)
        XCTAssertEqual(ops.map(\.summary), ["add column t.m TEXT"])
        XCTAssertEqual(try Planner.statements(for: ops, in: v1).map(\.sql), [#"ALTER TABLE t ADD COLUMN m TEXT DEFAULT "x""#])
        XCTAssertEqual(Column(name: "a", type: "VARCHAR(64)"), Column(name: "a", type: "VARCHAR (64)"))
        XCTAssertEqual(Set([Column(name: "a", type: "VARCHAR(64)"), Column(name: "a", type: "VARCHAR ( 64 )")]).count, 1)
        XCTAssertNotEqual(Column(name: "a", type: "VARCHAR(64)"), Column(name: "a", type: "VARCHAR(65)"))
    }

    func testRebuildKeepsRowsForeignKeysAndTheAutoincrementHighWaterMark() throws {
        let dir = try TempDir()
        let db = try TargetDatabase(path: dir.path("a.db"))
        let v1 = try models("""
            CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
            CREATE TABLE posts (id INTEGER PRIMARY KEY, uid INTEGER REFERENCES users(id) ON DELETE CASCADE);
            CREATE INDEX ix_name ON users (name);
            CREATE TRIGGER tr AFTER DELETE ON users BEGIN SELECT 1; END;
            CREATE VIEW v AS SELECT name FROM users;
            """)
        let e1 = try migrate(db, .empty, to: v1)
        try db.connection.execute("""
            INSERT INTO users (name) VALUES ('a'), ('b'), ('c'); DELETE FROM users WHERE id = 3;
            INSERT INTO posts (uid) VALUES (1), (2);
            """)
        let v2 = try models("""
            CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL DEFAULT '?' COLLATE NOCASE);
            CREATE TABLE posts (id INTEGER PRIMARY KEY, uid INTEGER REFERENCES users(id) ON DELETE CASCADE);
            CREATE INDEX ix_name ON users (name);
            CREATE TRIGGER tr AFTER DELETE ON users BEGIN SELECT 1; END;
            CREATE VIEW v AS SELECT name FROM users;
            """)
        try db.connection.execute("PRAGMA foreign_keys = ON")
        try migrate(db, v1, to: v2, from: e1.id)
        XCTAssertEqual(try db.schema(), v2)
        // The cascade did not fire: foreign keys were off for the rebuild.
        XCTAssertEqual(try db.connection.scalar("SELECT count(*) FROM posts")?.int, 2)
        XCTAssertEqual(try db.connection.scalar("SELECT seq FROM sqlite_sequence WHERE name = 'users'")?.int, 3)
        XCTAssertEqual(try db.connection.query("PRAGMA foreign_key_check").count, 0)
        XCTAssertEqual(try db.connection.scalar("PRAGMA foreign_keys")?.int, 1, "restored after the run")
        XCTAssertEqual(try db.connection.scalar("SELECT sql FROM sqlite_master WHERE name = 'posts'")?.string?.contains("REFERENCES users"), true)
    }

    /// Step 9 of SQLite's procedure: what reads the rebuilt table from
    /// outside (views, views on those views, other tables' triggers) is
    /// dropped before the old table goes and recreated after the rename;
    /// what does not read it is left alone.
    func testARebuildDropsAndRecreatesWhatReadsTheTable() throws {
        let dir = try TempDir()
        let db = try TargetDatabase(path: dir.path("a.db"))
        let shared = """
            CREATE TABLE posts (id INTEGER PRIMARY KEY, uid INTEGER, title TEXT);
            CREATE TABLE log (what TEXT);
            CREATE VIEW v AS SELECT id, name FROM users;
            CREATE VIEW vv AS SELECT name FROM v;
            CREATE VIEW titles AS SELECT title FROM posts;
            CREATE TRIGGER post_author AFTER INSERT ON posts BEGIN INSERT INTO log SELECT name FROM users WHERE id = new.uid; END;
            """
        let v1 = try models("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n" + shared)
        let v2 = try models("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '?');\n" + shared)
        let e1 = try migrate(db, .empty, to: v1)
        try db.connection.execute("INSERT INTO users (name) VALUES ('ana')")

        let ops = try v1.diff(to: v2, renames: RenameHints())
        XCTAssertEqual(ops.count, 1)
        let plan = PlannedStatement.script(try Planner.statements(for: ops[0], in: v1))
        // vv reads v, which reads users: dropped outermost first, recreated
        // innermost first; `titles` reads only posts and stays.
        XCTAssertEqual(plan, """
            -- rebuild users: drop trigger post_author that reads it
            DROP TRIGGER post_author;
            -- rebuild users: drop view vv that reads it
            DROP VIEW vv;
            -- rebuild users: drop view v that reads it
            DROP VIEW v;
            -- rebuild users: create the new table
            CREATE TABLE _strata_new_users (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL DEFAULT '?'
            );
            -- rebuild users: copy rows
            INSERT INTO _strata_new_users (id, name) SELECT id, coalesce(name, '?') FROM users;
            -- rebuild users: drop the old table
            DROP TABLE users;
            -- rebuild users: rename the new table into place
            PRAGMA legacy_alter_table = ON;
            ALTER TABLE _strata_new_users RENAME TO users;
            PRAGMA legacy_alter_table = OFF;
            -- rebuild users: recreate view v
            CREATE VIEW v AS SELECT id, name FROM users;
            -- rebuild users: recreate view vv
            CREATE VIEW vv AS SELECT name FROM v;
            -- rebuild users: recreate trigger post_author
            CREATE TRIGGER post_author AFTER INSERT ON posts BEGIN INSERT INTO log SELECT name FROM users WHERE id = new.uid; END;

            """)

        try migrate(db, v1, to: v2, from: e1.id)
        XCTAssertEqual(try db.schema(), v2)
        XCTAssertEqual(try db.connection.scalar("SELECT name FROM vv")?.string, "ana")
        try db.connection.execute("INSERT INTO posts (uid, title) VALUES (1, 'hello')")
        XCTAssertEqual(try db.connection.scalar("SELECT what FROM log")?.string, "ana")
    }

    /// `DEFERRABLE INITIALLY DEFERRED` moves the foreign key check to COMMIT;
    /// it is read from the CREATE text (PRAGMA foreign_key_list omits it),
    /// kept through a rebuild, and only that spelling counts as deferred.
    func testDeferredForeignKeysAreKept() throws {
        let dir = try TempDir()
        let db = try TargetDatabase(path: dir.path("a.db"))
        let v1 = try models("""
            CREATE TABLE p (id INTEGER PRIMARY KEY);
            CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER, qid INTEGER REFERENCES p DEFERRABLE INITIALLY IMMEDIATE,
                            CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED);
            """)
        let fks = try XCTUnwrap(v1.table("c")?.constraints.foreignKeys)
        XCTAssertEqual(fks.map(\.deferred), [true, false], "\(fks)")
        _ = try migrate(db, .empty, to: v1)
        XCTAssertEqual(try db.schema(), v1)
        try db.connection.execute("PRAGMA foreign_keys = ON")
        // The child row comes first; the parent arrives before COMMIT.
        try db.connection.execute("BEGIN; INSERT INTO c (id, pid) VALUES (1, 7); INSERT INTO p VALUES (7); COMMIT;")
        XCTAssertEqual(try db.connection.scalar("SELECT count(*) FROM c")?.int, 1)
        let immediate = try models("""
            CREATE TABLE p (id INTEGER PRIMARY KEY);
            CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER, qid INTEGER REFERENCES p DEFERRABLE INITIALLY IMMEDIATE,
                            CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id) NOT DEFERRABLE INITIALLY DEFERRED);
            """)
        XCTAssertEqual(try v1.diff(to: immediate).map(\.summary), ["alter constraints of c: foreign keys"])
    }

    /// A CHECK constraint's name is what SQLite reports when the check fails,
    /// so applications may depend on it: it is kept, through rebuilds too,
    /// and renaming it is a change.
    func testCheckConstraintNamesAreKept() throws {
        let dir = try TempDir()
        let db = try TargetDatabase(path: dir.path("a.db"))
        let v1 = try models("""
            CREATE TABLE users (id INTEGER PRIMARY KEY, age INTEGER CONSTRAINT ck_age CHECK (age >= 0), name TEXT,
                                CHECK (length(name) > 0), CONSTRAINT "ck name" CHECK (name <> 'root'));
            """)
        XCTAssertEqual(v1.table("users")?.constraints.checks,
                       [Check("age >= 0", name: "ck_age"), "length(name) > 0", Check("name <> 'root'", name: "ck name")])
        let e1 = try migrate(db, .empty, to: v1)
        XCTAssertEqual(try db.schema(), v1)
        XCTAssertThrowsError(try db.connection.execute("INSERT INTO users (age, name) VALUES (-1, 'a')")) {
            XCTAssertTrue("\($0)".contains("CHECK constraint failed: ck_age"), "\($0)")
        }
        let v2 = try models("""
            CREATE TABLE users (id INTEGER PRIMARY KEY, age INTEGER CONSTRAINT ck_age_positive CHECK (age >= 0), name TEXT NOT NULL DEFAULT 'x',
                                CHECK (length(name) > 0), CONSTRAINT "ck name" CHECK (name <> 'root'));
            """)
        XCTAssertEqual(try v1.diff(to: v2).map(\.summary), ["alter column users.name: set NOT NULL, default none -> 'x'", "alter constraints of users: checks"])
        try migrate(db, v1, to: v2, from: e1.id)
        XCTAssertEqual(try db.schema(), v2)
        XCTAssertThrowsError(try db.connection.execute("INSERT INTO users (age, name) VALUES (1, 'root')")) {
            XCTAssertTrue("\($0)".contains("CHECK constraint failed: ck name"), "\($0)")
        }
    }

    /// Generated columns: read back exactly, a VIRTUAL one added in place, a
    /// STORED one by a rebuild that does not copy into it, renames rewrite
    /// their expressions, and what they read cannot be dropped.
    func testGeneratedColumns() throws {
        let dir = try TempDir()
        let db = try TargetDatabase(path: dir.path("a.db"))
        let v1 = try models("""
            CREATE TABLE items (id INTEGER PRIMARY KEY, price REAL NOT NULL, qty INTEGER NOT NULL DEFAULT 1,
                                total REAL GENERATED ALWAYS AS (price * qty) STORED, label TEXT AS ('#' || id));
            CREATE INDEX ix_total ON items (total);
            """)
        let items = try XCTUnwrap(v1.table("items"))
        XCTAssertEqual(items.column("total")?.generated, Generated("price * qty", stored: true))
        XCTAssertEqual(items.column("label")?.generated, Generated("'#' || id", stored: false))
        let e1 = try migrate(db, .empty, to: v1)
        XCTAssertEqual(try db.schema(), v1)
        try db.connection.execute("INSERT INTO items (price, qty) VALUES (2.5, 4), (1, 1)")

        let v2 = try models("""
            CREATE TABLE items (id INTEGER PRIMARY KEY, price REAL NOT NULL, qty INTEGER NOT NULL DEFAULT 1,
                                total REAL GENERATED ALWAYS AS (price * qty) STORED, label TEXT AS ('#' || id),
                                doubled REAL AS (price * 2), taxed REAL AS (price * qty * 1.2) STORED);
            CREATE INDEX ix_total ON items (total);
            """)
        let ops = try v1.diff(to: v2)
        XCTAssertEqual(ops.map(\.summary), ["add column items.doubled REAL generated (virtual)", "add column items.taxed REAL generated (stored)"])
        let sql = try Planner.statements(for: ops[0], in: v1).map(\.sql)
        XCTAssertEqual(sql, ["ALTER TABLE items ADD COLUMN doubled REAL GENERATED ALWAYS AS (price * 2) VIRTUAL"])
        let rebuild = try Planner.statements(for: ops[1], in: try v1.applying(ops[0])).map(\.sql)
        XCTAssertEqual(rebuild, [
            "CREATE TABLE _strata_new_items (\n    id INTEGER PRIMARY KEY,\n    price REAL NOT NULL,\n    qty INTEGER NOT NULL DEFAULT 1,\n"
                + "    total REAL GENERATED ALWAYS AS (price * qty) STORED,\n    label TEXT GENERATED ALWAYS AS ('#' || id) VIRTUAL,\n"
                + "    doubled REAL GENERATED ALWAYS AS (price * 2) VIRTUAL,\n    taxed REAL GENERATED ALWAYS AS (price * qty * 1.2) STORED\n)",
            "INSERT INTO _strata_new_items (id, price, qty) SELECT id, price, qty FROM items",
            "DROP TABLE items",
            "PRAGMA legacy_alter_table = ON", "ALTER TABLE _strata_new_items RENAME TO items", "PRAGMA legacy_alter_table = OFF",
            "CREATE INDEX ix_total ON items (total)",
        ], "the generated columns are never copied into")
        let e2 = try migrate(db, v1, to: v2, from: e1.id)
        XCTAssertEqual(try db.schema(), v2)
        XCTAssertEqual(try db.connection.query("SELECT total, label, doubled, taxed FROM items ORDER BY id").map { $0.map { $0.string ?? "NULL" } },
                       [["10.0", "#1", "5.0", "12.0"], ["1.0", "#2", "2.0", "1.2"]])

        var hints = RenameHints()
        try hints.add("items.price=unit_price")
        let v3 = try models("""
            CREATE TABLE items (id INTEGER PRIMARY KEY, unit_price REAL NOT NULL, qty INTEGER NOT NULL DEFAULT 1,
                                total REAL GENERATED ALWAYS AS (unit_price * qty) STORED, label TEXT AS ('#' || id),
                                doubled REAL AS (unit_price * 2), taxed REAL AS (unit_price * qty * 1.2) STORED);
            CREATE INDEX ix_total ON items (total);
            """)
        XCTAssertEqual(try v2.diff(to: v3, renames: hints).map(\.summary), ["rename column items.price to unit_price"])
        try migrate(db, v2, to: v3, renames: hints, from: e2.id)
        XCTAssertEqual(try db.schema(), v3)
        XCTAssertThrowsError(try v3.applying(.dropColumn(table: "items", column: v3.table("items")!.column("qty")!, position: 2))) {
            XCTAssertTrue("\($0)".contains("generated column total uses it"), "\($0)")
        }
    }

    /// A virtual table is kept as its statement and columns; its module's
    /// shadow tables are left to the module. A changed definition renames
    /// the old one aside and copies its rows into the new one, for both an
    /// external-content and a contentful full-text table, and a trigger that
    /// feeds it survives a rebuild of its table.
    func testVirtualTables() throws {
        let dir = try TempDir()
        let db = try TargetDatabase(path: dir.path("a.db"))
        let feed = "CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN INSERT INTO posts_fts (rowid, title) VALUES (new.id, new.title); END;"
        let v1 = try models("""
            CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);
            CREATE VIRTUAL TABLE posts_fts USING fts5(title, content='posts', content_rowid='id');
            CREATE VIRTUAL TABLE notes USING fts5(body);
            \(feed)
            """)
        XCTAssertEqual(Array(v1.tables.keys), ["posts"], "no shadow tables")
        XCTAssertEqual(v1.virtualTables["posts_fts"],
                       VirtualTable(name: "posts_fts", sql: "CREATE VIRTUAL TABLE posts_fts USING fts5(title, content = 'posts', content_rowid = 'id')",
                                    columns: ["title"]))
        let e1 = try migrate(db, .empty, to: v1)
        XCTAssertEqual(try db.schema(), v1)
        try db.connection.execute("INSERT INTO posts (title) VALUES ('hello world'); INSERT INTO notes (rowid, body) VALUES (7, 'running notes')")
        XCTAssertEqual(try db.connection.scalar("SELECT rowid FROM posts_fts WHERE posts_fts MATCH 'world'")?.int, 1)

        let v2 = try models("""
            CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '');
            CREATE VIRTUAL TABLE posts_fts USING fts5(title, content='posts', content_rowid='id', tokenize='porter');
            CREATE VIRTUAL TABLE notes USING fts5(body, tokenize='porter');
            \(feed)
            """)
        let ops = try v1.diff(to: v2)
        XCTAssertEqual(ops.map(\.summary),
                       ["alter column posts.title: set NOT NULL, default none -> ''", "alter virtual table notes", "alter virtual table posts_fts"])
        XCTAssertEqual(try Planner.statements(for: ops[1], in: try v1.applying([ops[0]])).map(\.sql), [
            "PRAGMA legacy_alter_table = ON",
            "ALTER TABLE notes RENAME TO _strata_old_notes",
            "PRAGMA legacy_alter_table = OFF",
            "CREATE VIRTUAL TABLE notes USING fts5(body, tokenize = 'porter')",
            "INSERT INTO notes (rowid, body) SELECT rowid, body FROM _strata_old_notes",
            "DROP TABLE _strata_old_notes",
        ])
        let e2 = try migrate(db, v1, to: v2, from: e1.id)
        XCTAssertEqual(try db.schema(), v2)
        XCTAssertEqual(try db.connection.scalar("SELECT rowid FROM notes WHERE notes MATCH 'run'")?.int, 7, "rows kept, and stemmed now")
        try db.connection.execute("INSERT INTO posts (title) VALUES ('worlds apart')")
        XCTAssertEqual(try db.connection.scalar("SELECT count(*) FROM posts_fts WHERE posts_fts MATCH 'world'")?.int, 2, "porter stems worlds")

        let plan = try Migrator.plan(start: v2, from: e2.id, to: nil,
                                     steps: [MigrationStep(event(ops, parent: e1.id), .down), MigrationStep(e1, .down)],
                                     context: context)
        try db.apply(plan)
        XCTAssertEqual(try db.schema(), .empty)
        XCTAssertEqual(try db.connection.scalar("SELECT count(*) FROM sqlite_master WHERE name LIKE 'posts%' OR name LIKE 'notes%' OR name LIKE '_strata%'")?.int, 0,
                       "shadow tables gone too")
    }

    func testAFailedRunLeavesTheDatabaseExactlyAsItWasAndSaysWhere() throws {
        let dir = try TempDir()
        let db = try TargetDatabase(path: dir.path("a.db"))
        let v1 = try models("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT) STRICT;")
        let e1 = try migrate(db, .empty, to: v1)
        try db.connection.execute("INSERT INTO t (a) VALUES ('x'), ('x')")
        // A STRICT column that cannot take the stored text: the rebuild's copy fails.
        let v2 = try models("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER DEFAULT 1) STRICT;")
        XCTAssertThrowsError(try migrate(db, v1, to: v2, from: e1.id)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("cannot store TEXT value in INTEGER column _strata_new_t.a"), message)
            // One rebuild for the type change and the new column (compaction): the copy fills b with the default it was added with.
            XCTAssertTrue(message.contains("statement: INSERT INTO _strata_new_t (id, a, b) SELECT id, a, 1 FROM t"), message)
            XCTAssertTrue(message.contains("the database was left exactly as it was"), message)
        }
        XCTAssertEqual(try db.schema(), v1)
        XCTAssertEqual(try db.currentRevision(), e1.id)
        XCTAssertEqual(try db.connection.scalar("SELECT count(*) FROM t")?.int, 2)
    }

    /// A change that the rows do not fit is refused before it runs, by the
    /// same count `lint` reports (MF102), inside the transaction.
    func testAUniqueIndexOverDuplicatesIsRefusedByItsCheck() throws {
        let dir = try TempDir()
        let db = try TargetDatabase(path: dir.path("a.db"))
        let v1 = try models("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);")
        let e1 = try migrate(db, .empty, to: v1)
        try db.connection.execute("INSERT INTO t (a) VALUES ('x'), ('x'), ('y'), ('y'), (NULL), (NULL)")
        let v2 = try models("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER DEFAULT 1); CREATE UNIQUE INDEX ux ON t (a);")
        XCTAssertThrowsError(try migrate(db, v1, to: v2, from: e1.id)) { error in
            XCTAssertEqual("\(error)".components(separatedBy: ": ").dropFirst().joined(separator: ": "),
                           "MF102: t holds 2 values of (a) in more than one row, so unique index ux cannot be built: remove the duplicates first (a data step), "
                            + "or drop the uniqueness\nthe database was left exactly as it was")
        }
        XCTAssertEqual(try db.schema(), v1, "column b was added first, and rolled back")
    }

    /// Rows that have nothing kept for a NOT NULL column without a default
    /// (inserted after the drop) cannot get it back: refused, with how many.
    func testRestoringANotNullColumnWithoutDefaultRefusesRowsWithNothingKept() throws {
        let dir = try TempDir()
        let db = try TargetDatabase(path: dir.path("a.db"))
        let v1 = try models("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b TEXT);")
        let e1 = try migrate(db, .empty, to: v1)
        let v2 = try models("CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT);")
        let e2 = try migrate(db, v1, to: v2, from: e1.id)
        try db.connection.execute("INSERT INTO t (b) VALUES ('x')")
        let down = try Migrator.plan(start: v2, from: e2.id, to: e1.id, steps: [MigrationStep(e2, .down)], context: context)
        XCTAssertThrowsError(try db.apply(down)) { error in
            XCTAssertEqual("\(error)", "downgrade failed at event \(e2.id.prefix(12)): column t.a is NOT NULL without a default, and nothing was kept of it for 1 row of t "
                + "(rows inserted after it was dropped, or its data was not kept); give them a value to fill with, or delete those rows first\n"
                + "the database was left exactly as it was")
            XCTAssertEqual((error as? MigrationError)?.errorCode, "migration.unfilled")
        }
        XCTAssertEqual(try db.schema(), v2)
        try db.connection.execute("DELETE FROM t")
        try db.apply(down)
        XCTAssertEqual(try db.schema(), v1, "restored in its original position")
    }

    func testASecondMigrationOfTheSameDatabaseIsRefusedNotQueued() throws {
        let dir = try TempDir()
        let db = try TargetDatabase(path: dir.path("a.db"))
        let other = try Connection(path: dir.path("a.db"))
        try other.execute("BEGIN IMMEDIATE")
        XCTAssertThrowsError(try migrate(db, .empty, to: try models("CREATE TABLE t (a)"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("database \(dir.path("a.db")) is locked by another process"), "\(error)")
        }
        try other.execute("ROLLBACK")
        XCTAssertEqual(try db.schema(), .empty)
    }

    func testNativeDropAndRenameWorkDespiteABrokenViewElsewhere() throws {
        let dir = try TempDir()
        let db = try TargetDatabase(path: dir.path("a.db"))
        let v1 = try models("CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT, y TEXT); CREATE TABLE b (id INTEGER PRIMARY KEY); CREATE VIEW broken AS SELECT nosuch FROM b;")
        let e1 = try migrate(db, .empty, to: v1)
        let v2 = try models("CREATE TABLE a (id INTEGER PRIMARY KEY, z TEXT); CREATE TABLE b (id INTEGER PRIMARY KEY); CREATE VIEW broken AS SELECT nosuch FROM b;")
        var hints = RenameHints()
        try hints.add("a.x=z")
        try migrate(db, v1, to: v2, renames: hints, from: e1.id)
        XCTAssertEqual(try db.schema(), v2)
    }

    func testModelsFileErrorsNameTheLine() {
        XCTAssertThrowsError(try models("CREATE TABLE a (id);\n\nCREATE TABLE b (id INTEGER PRIMARY KEY,);")) {
            XCTAssertEqual("\($0)", "test: statement at line 3: near \")\": syntax error")
        }
        XCTAssertThrowsError(try models("CREATE TABLE a (id);\nINSERT INTO a VALUES (1);")) {
            XCTAssertEqual("\($0)", "test: statement at line 2: only CREATE TABLE, VIRTUAL TABLE, INDEX, VIEW and TRIGGER statements belong in a models file")
        }
        XCTAssertThrowsError(try models("CREATE TABLE strata_x (id);")) {
            XCTAssertEqual("\($0)", "test: strata_x: names starting with strata_ are reserved for strata's bookkeeping; rename it")
        }
    }
}
