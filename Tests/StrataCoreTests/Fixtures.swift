import StrataCore

/// A small schema and one op of every kind, shared by the core tests.
enum Fixtures {
    static let id = Column(name: "id", type: "INTEGER")
    static let name = Column(name: "name", type: "VARCHAR(50)", notNull: true, defaultValue: "'x'", collation: "NOCASE")
    static let email = Column(name: "email", type: "VARCHAR(120)")

    static let users = Table(name: "users", columns: [id, name, email],
                             constraints: TableConstraints(primaryKey: ["id"], autoincrement: true, uniques: [["email"]],
                                                           checks: ["length(name) > 0"]))
    static let posts = Table(name: "posts", columns: [Column(name: "id", type: "INTEGER"), Column(name: "uid", type: "INTEGER")],
                             constraints: TableConstraints(primaryKey: ["id"],
                                                           foreignKeys: [ForeignKey(columns: ["uid"], referencedTable: "users", referencedColumns: ["id"], onDelete: "CASCADE")]))
    static let emailIndex = Index(name: "ix_users_name", table: "users", unique: false, terms: ["name"], predicate: "email IS NOT NULL")
    static let view = View(name: "v_users", sql: "CREATE VIEW v_users AS SELECT id, name FROM users")
    static let trigger = Trigger(name: "tr_posts", table: "posts", sql: "CREATE TRIGGER tr_posts AFTER INSERT ON posts BEGIN SELECT 1; END")
    static let search = VirtualTable(name: "search", sql: "CREATE VIRTUAL TABLE search USING fts5(name, email)", columns: ["name", "email"])

    static var schema: Schema {
        var s = Schema()
        s.tables["users"] = users
        s.tables["posts"] = posts
        s.indexes["ix_users_name"] = emailIndex
        s.views["v_users"] = view
        s.triggers["tr_posts"] = trigger
        s.virtualTables["search"] = search
        return s
    }

    /// One op of every case, each valid on `schema`.
    static var opsOfEveryKind: [Op] {
        let age = Column(name: "age", type: "INTEGER", defaultValue: "0")
        var newConstraints = users.constraints
        newConstraints.checks = ["length(name) > 1"]
        let tags = Table(name: "tags", columns: [Column(name: "id", type: "INTEGER")], constraints: TableConstraints(primaryKey: ["id"]))
        return [
            .createTable(tags, indexes: [Index(name: "ix_tags", table: "tags", terms: ["id"])], triggers: []),
            .dropTable(posts, indexes: [], triggers: [trigger]),
            .renameTable(from: "posts", to: "articles"),
            .addColumn(table: "users", column: age, position: 1),
            .dropColumn(table: "users", column: email, position: 2),
            .renameColumn(table: "users", from: "email", to: "mail"),
            .alterColumn(table: "users", from: email, to: Column(name: "email", type: "TEXT", notNull: true, defaultValue: "''")),
            .alterConstraints(table: "users", from: users.constraints, to: newConstraints),
            .reorderColumns(table: "users", from: ["id", "name", "email"], to: ["id", "email", "name"]),
            .createIndex(Index(name: "ix_new", table: "posts", unique: true, terms: ["uid", "id DESC"])),
            .dropIndex(emailIndex),
            .createView(View(name: "v2", sql: "CREATE VIEW v2 AS SELECT 1")),
            .dropView(view),
            .createTrigger(Trigger(name: "tr2", table: "users", sql: "CREATE TRIGGER tr2 AFTER DELETE ON users BEGIN SELECT 1; END")),
            .dropTrigger(trigger),
            .createVirtualTable(VirtualTable(name: "docs", sql: "CREATE VIRTUAL TABLE docs USING fts5(body)")),
            .dropVirtualTable(search),
            .alterVirtualTable(from: search, to: VirtualTable(name: "search", sql: "CREATE VIRTUAL TABLE search USING fts5(name)", columns: ["name"])),
            .exec(forward: "UPDATE users SET name = upper(name)", reverse: "UPDATE users SET name = lower(name)"),
        ]
    }
}
