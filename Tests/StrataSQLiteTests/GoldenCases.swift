import StrataCore

/// The cases of `PlannerGoldenTests`: one op of every kind, with its SQL both ways.
enum GoldenCases {
    typealias Case = PlannerGoldenTests.Case
    static let base = PlannerGoldenTests.base
    static func edited(_ old: String, _ new: String) -> String { PlannerGoldenTests.edited(old, new) }

    static let all: [Case] = [
        Case(kind: .exec, before: base, after: base,
             op: .exec(forward: "UPDATE users SET name = upper(name) WHERE name IS NOT NULL;", reverse: "UPDATE users SET name = lower(name)"),
             up: #"""
             -- data step
             UPDATE users SET name = upper(name) WHERE name IS NOT NULL;
             """#,
             down: #"""
             -- data step
             UPDATE users SET name = lower(name);
             """#),
        Case(kind: .createTable, before: base, after: base + "\nCREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT);\nCREATE INDEX ix_tags ON tags (label);",
             up: #"""
             -- create table tags
             CREATE TABLE tags (
                 id INTEGER PRIMARY KEY,
                 label TEXT
             );
             -- create index ix_tags
             CREATE INDEX ix_tags ON tags (label);
             """#,
             down: #"""
             -- drop table tags with its indexes and triggers
             DROP TABLE tags;
             """#),
        Case(kind: .dropTable, before: base + "\nCREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT);\nCREATE INDEX ix_tags ON tags (label);", after: base,
             up: #"""
             -- drop table tags with its indexes and triggers
             DROP TABLE tags;
             """#,
             down: #"""
             -- create table tags
             CREATE TABLE tags (
                 id INTEGER PRIMARY KEY,
                 label TEXT
             );
             -- create index ix_tags
             CREATE INDEX ix_tags ON tags (label);
             """#),
        Case(kind: .renameTable, before: base, after: edited("CREATE TABLE posts (", "CREATE TABLE articles (")
                .replacingOccurrences(of: "ON posts", with: "ON articles"), renames: ["posts=articles"],
             up: #"""
             -- set trigger tr_posts aside (SQLite re-checks every trigger)
             DROP TRIGGER tr_posts;
             -- set view v_names aside (SQLite re-checks every view)
             DROP VIEW v_names;
             -- rename table posts to articles
             ALTER TABLE posts RENAME TO articles;
             -- recreate view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             -- recreate trigger tr_posts
             CREATE TRIGGER tr_posts AFTER INSERT ON articles BEGIN SELECT 1; END;
             """#,
             down: #"""
             -- set trigger tr_posts aside (SQLite re-checks every trigger)
             DROP TRIGGER tr_posts;
             -- set view v_names aside (SQLite re-checks every view)
             DROP VIEW v_names;
             -- rename table articles to posts
             ALTER TABLE articles RENAME TO posts;
             -- recreate view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             -- recreate trigger tr_posts
             CREATE TRIGGER tr_posts AFTER INSERT ON posts BEGIN SELECT 1; END;
             """#),
        Case(kind: .addColumn, before: base, after: edited("email TEXT)", "email TEXT, age INTEGER DEFAULT 0)"),
             up: #"""
             -- add column users.age
             ALTER TABLE users ADD COLUMN age INTEGER DEFAULT 0;
             """#,
             down: #"""
             -- set trigger tr_posts aside (SQLite re-checks every trigger)
             DROP TRIGGER tr_posts;
             -- set view v_names aside (SQLite re-checks every view)
             DROP VIEW v_names;
             -- drop column users.age
             ALTER TABLE users DROP COLUMN age;
             -- recreate view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             -- recreate trigger tr_posts
             CREATE TRIGGER tr_posts AFTER INSERT ON posts BEGIN SELECT 1; END;
             """#),
        Case(kind: .dropColumn, before: base, after: edited(", email TEXT)", ")"),
             up: #"""
             -- set trigger tr_posts aside (SQLite re-checks every trigger)
             DROP TRIGGER tr_posts;
             -- set view v_names aside (SQLite re-checks every view)
             DROP VIEW v_names;
             -- drop column users.email
             ALTER TABLE users DROP COLUMN email;
             -- recreate view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             -- recreate trigger tr_posts
             CREATE TRIGGER tr_posts AFTER INSERT ON posts BEGIN SELECT 1; END;
             """#,
             down: #"""
             -- add column users.email
             ALTER TABLE users ADD COLUMN email TEXT;
             """#),
        Case(kind: .renameColumn, before: base, after: edited("email TEXT)", "mail TEXT)"), renames: ["users.email=mail"],
             up: #"""
             -- set trigger tr_posts aside (SQLite re-checks every trigger)
             DROP TRIGGER tr_posts;
             -- set view v_names aside (SQLite re-checks every view)
             DROP VIEW v_names;
             -- rename column users.email to mail
             ALTER TABLE users RENAME COLUMN email TO mail;
             -- recreate view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             -- recreate trigger tr_posts
             CREATE TRIGGER tr_posts AFTER INSERT ON posts BEGIN SELECT 1; END;
             """#,
             down: #"""
             -- set trigger tr_posts aside (SQLite re-checks every trigger)
             DROP TRIGGER tr_posts;
             -- set view v_names aside (SQLite re-checks every view)
             DROP VIEW v_names;
             -- rename column users.mail to email
             ALTER TABLE users RENAME COLUMN mail TO email;
             -- recreate view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             -- recreate trigger tr_posts
             CREATE TRIGGER tr_posts AFTER INSERT ON posts BEGIN SELECT 1; END;
             """#),
        Case(kind: .alterColumn, before: base, after: edited("name TEXT,", "name TEXT NOT NULL DEFAULT 'x',"),
             up: #"""
             -- rebuild users: drop view v_names that reads it
             DROP VIEW v_names;
             -- rebuild users: create the new table
             CREATE TABLE _strata_new_users (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 name TEXT NOT NULL DEFAULT 'x',
                 email TEXT
             );
             -- rebuild users: copy rows
             INSERT INTO _strata_new_users (id, name, email) SELECT id, coalesce(name, 'x'), email FROM users;
             -- rebuild users: carry the AUTOINCREMENT counter over
             DELETE FROM sqlite_sequence WHERE name = '_strata_new_users';
             INSERT INTO sqlite_sequence (name, seq) SELECT '_strata_new_users', seq FROM sqlite_sequence WHERE name = 'users';
             -- rebuild users: drop the old table
             DROP TABLE users;
             -- rebuild users: rename the new table into place
             PRAGMA legacy_alter_table = ON;
             ALTER TABLE _strata_new_users RENAME TO users;
             PRAGMA legacy_alter_table = OFF;
             -- rebuild users: recreate view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             """#,
             down: #"""
             -- rebuild users: drop view v_names that reads it
             DROP VIEW v_names;
             -- rebuild users: create the new table
             CREATE TABLE _strata_new_users (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 name TEXT,
                 email TEXT
             );
             -- rebuild users: copy rows
             INSERT INTO _strata_new_users (id, name, email) SELECT id, name, email FROM users;
             -- rebuild users: carry the AUTOINCREMENT counter over
             DELETE FROM sqlite_sequence WHERE name = '_strata_new_users';
             INSERT INTO sqlite_sequence (name, seq) SELECT '_strata_new_users', seq FROM sqlite_sequence WHERE name = 'users';
             -- rebuild users: drop the old table
             DROP TABLE users;
             -- rebuild users: rename the new table into place
             PRAGMA legacy_alter_table = ON;
             ALTER TABLE _strata_new_users RENAME TO users;
             PRAGMA legacy_alter_table = OFF;
             -- rebuild users: recreate view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             """#),
        Case(kind: .alterConstraints, before: base, after: edited("email TEXT)", "email TEXT, CHECK (length(name) > 0))"),
             up: #"""
             -- rebuild users: drop view v_names that reads it
             -- requires (MF104): `SELECT count(*) FROM users WHERE NOT (length(name) > 0)` counts no rows
             DROP VIEW v_names;
             -- rebuild users: create the new table
             CREATE TABLE _strata_new_users (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 name TEXT,
                 email TEXT,
                 CHECK (length(name) > 0)
             );
             -- rebuild users: copy rows
             INSERT INTO _strata_new_users (id, name, email) SELECT id, name, email FROM users;
             -- rebuild users: carry the AUTOINCREMENT counter over
             DELETE FROM sqlite_sequence WHERE name = '_strata_new_users';
             INSERT INTO sqlite_sequence (name, seq) SELECT '_strata_new_users', seq FROM sqlite_sequence WHERE name = 'users';
             -- rebuild users: drop the old table
             DROP TABLE users;
             -- rebuild users: rename the new table into place
             PRAGMA legacy_alter_table = ON;
             ALTER TABLE _strata_new_users RENAME TO users;
             PRAGMA legacy_alter_table = OFF;
             -- rebuild users: recreate view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             """#,
             down: #"""
             -- rebuild users: drop view v_names that reads it
             DROP VIEW v_names;
             -- rebuild users: create the new table
             CREATE TABLE _strata_new_users (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 name TEXT,
                 email TEXT
             );
             -- rebuild users: copy rows
             INSERT INTO _strata_new_users (id, name, email) SELECT id, name, email FROM users;
             -- rebuild users: carry the AUTOINCREMENT counter over
             DELETE FROM sqlite_sequence WHERE name = '_strata_new_users';
             INSERT INTO sqlite_sequence (name, seq) SELECT '_strata_new_users', seq FROM sqlite_sequence WHERE name = 'users';
             -- rebuild users: drop the old table
             DROP TABLE users;
             -- rebuild users: rename the new table into place
             PRAGMA legacy_alter_table = ON;
             ALTER TABLE _strata_new_users RENAME TO users;
             PRAGMA legacy_alter_table = OFF;
             -- rebuild users: recreate view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             """#),
        Case(kind: .reorderColumns, before: base, after: edited("name TEXT, email TEXT", "email TEXT, name TEXT"),
             up: #"""
             -- rebuild users: drop view v_names that reads it
             DROP VIEW v_names;
             -- rebuild users: create the new table
             CREATE TABLE _strata_new_users (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 email TEXT,
                 name TEXT
             );
             -- rebuild users: copy rows
             INSERT INTO _strata_new_users (id, email, name) SELECT id, email, name FROM users;
             -- rebuild users: carry the AUTOINCREMENT counter over
             DELETE FROM sqlite_sequence WHERE name = '_strata_new_users';
             INSERT INTO sqlite_sequence (name, seq) SELECT '_strata_new_users', seq FROM sqlite_sequence WHERE name = 'users';
             -- rebuild users: drop the old table
             DROP TABLE users;
             -- rebuild users: rename the new table into place
             PRAGMA legacy_alter_table = ON;
             ALTER TABLE _strata_new_users RENAME TO users;
             PRAGMA legacy_alter_table = OFF;
             -- rebuild users: recreate view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             """#,
             down: #"""
             -- rebuild users: drop view v_names that reads it
             DROP VIEW v_names;
             -- rebuild users: create the new table
             CREATE TABLE _strata_new_users (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 name TEXT,
                 email TEXT
             );
             -- rebuild users: copy rows
             INSERT INTO _strata_new_users (id, name, email) SELECT id, name, email FROM users;
             -- rebuild users: carry the AUTOINCREMENT counter over
             DELETE FROM sqlite_sequence WHERE name = '_strata_new_users';
             INSERT INTO sqlite_sequence (name, seq) SELECT '_strata_new_users', seq FROM sqlite_sequence WHERE name = 'users';
             -- rebuild users: drop the old table
             DROP TABLE users;
             -- rebuild users: rename the new table into place
             PRAGMA legacy_alter_table = ON;
             ALTER TABLE _strata_new_users RENAME TO users;
             PRAGMA legacy_alter_table = OFF;
             -- rebuild users: recreate view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             """#),
        Case(kind: .createIndex, before: base, after: base + "\nCREATE UNIQUE INDEX ux_users_email ON users (email) WHERE email IS NOT NULL;",
             up: #"""
             -- create index ux_users_email
             -- requires (MF102): `SELECT count(*) FROM (SELECT 1 FROM users WHERE (email) IS NOT NULL AND (email IS NOT NULL) GROUP BY email HAVING count(*) > 1)` counts no rows
             CREATE UNIQUE INDEX ux_users_email ON users (email) WHERE email IS NOT NULL;
             """#,
             down: #"""
             -- drop index ux_users_email
             DROP INDEX ux_users_email;
             """#),
        Case(kind: .dropIndex, before: base, after: edited("CREATE INDEX ix_posts_uid ON posts (uid);\n", ""),
             up: #"""
             -- drop index ix_posts_uid
             DROP INDEX ix_posts_uid;
             """#,
             down: #"""
             -- create index ix_posts_uid
             CREATE INDEX ix_posts_uid ON posts (uid);
             """#),
        Case(kind: .createView, before: base, after: base + "\nCREATE VIEW v_posts AS SELECT id FROM posts;",
             up: #"""
             -- create view v_posts
             CREATE VIEW v_posts AS SELECT id FROM posts;
             """#,
             down: #"""
             -- drop view v_posts
             DROP VIEW v_posts;
             """#),
        Case(kind: .dropView, before: base, after: edited("CREATE VIEW v_names AS SELECT name FROM users;\n", ""),
             up: #"""
             -- drop view v_names
             DROP VIEW v_names;
             """#,
             down: #"""
             -- create view v_names
             CREATE VIEW v_names AS SELECT name FROM users;
             """#),
        Case(kind: .createTrigger, before: base, after: base + "\nCREATE TRIGGER tr_users AFTER DELETE ON users BEGIN DELETE FROM posts WHERE uid = OLD.id; END;",
             up: #"""
             -- create trigger tr_users
             CREATE TRIGGER tr_users AFTER DELETE ON users BEGIN DELETE FROM posts WHERE uid = OLD.id; END;
             """#,
             down: #"""
             -- drop trigger tr_users
             DROP TRIGGER tr_users;
             """#),
        Case(kind: .dropTrigger, before: base, after: edited("CREATE TRIGGER tr_posts AFTER INSERT ON posts BEGIN SELECT 1; END;\n", ""),
             up: #"""
             -- drop trigger tr_posts
             DROP TRIGGER tr_posts;
             """#,
             down: #"""
             -- create trigger tr_posts
             CREATE TRIGGER tr_posts AFTER INSERT ON posts BEGIN SELECT 1; END;
             """#),
        Case(kind: .createVirtualTable, before: base, after: base + "\nCREATE VIRTUAL TABLE docs USING fts5(text);",
             up: #"""
             -- create virtual table docs
             CREATE VIRTUAL TABLE docs USING fts5(text);
             """#,
             down: #"""
             -- drop virtual table docs with its shadow tables
             DROP TABLE docs;
             """#),
        Case(kind: .dropVirtualTable, before: base, after: edited("CREATE VIRTUAL TABLE search USING fts5(title, body);", ""),
             up: #"""
             -- drop virtual table search with its shadow tables
             DROP TABLE search;
             """#,
             down: #"""
             -- create virtual table search
             CREATE VIRTUAL TABLE search USING fts5(title, body);
             """#),
        Case(kind: .alterVirtualTable, before: base, after: edited("fts5(title, body)", "fts5(title, body, tags)"),
             up: #"""
             -- alter virtual table search: set the old one aside
             PRAGMA legacy_alter_table = ON;
             ALTER TABLE search RENAME TO _strata_old_search;
             PRAGMA legacy_alter_table = OFF;
             -- alter virtual table search: create the new one
             CREATE VIRTUAL TABLE search USING fts5(title, body, tags);
             -- alter virtual table search: copy rows
             INSERT INTO search (rowid, title, body) SELECT rowid, title, body FROM _strata_old_search;
             -- alter virtual table search: drop the old one
             DROP TABLE _strata_old_search;
             """#,
             down: #"""
             -- alter virtual table search: set the old one aside
             PRAGMA legacy_alter_table = ON;
             ALTER TABLE search RENAME TO _strata_old_search;
             PRAGMA legacy_alter_table = OFF;
             -- alter virtual table search: create the new one
             CREATE VIRTUAL TABLE search USING fts5(title, body);
             -- alter virtual table search: copy rows
             INSERT INTO search (rowid, title, body) SELECT rowid, title, body FROM _strata_old_search;
             -- alter virtual table search: drop the old one
             DROP TABLE _strata_old_search;
             """#),
    ]
}
