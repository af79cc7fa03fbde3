import Foundation
import StrataCore
import StrataRegistry
import StrataStore

/// Generates synthetic projects for ops/bench: a strata.toml and a log of N
/// events, written through the store in batches (the CLI would prove each
/// event in a scratch database, which is what a user wants and a benchmark
/// setup does not). Every timed command in ops/bench is the real CLI.
///
/// usage: strata-bench make-project DIR EVENTS [TABLES]
///        strata-bench make-history DIR EVENTS
///        strata-bench make-wide DIR
///        strata-bench make-registry STORE PROJECT EVENTS   (STORE: a SQLite file or postgres://…)
@main
enum BenchTool {
    static func main() async throws {
        let args = CommandLine.arguments
        if args.count == 5, args[1] == "make-registry", let count = Int(args[4]) {
            try await makeRegistry(store: args[2], project: args[3], count: count)
            return
        }
        if args.count == 4, args[1] == "push-body", let count = Int(args[3]) {
            try pushBody(path: args[2], count: count)
            return
        }
        if args.count == 3, args[1] == "make-wide" {
            let changes = wideChanges()
            try makeProject(directory: args[2], count: changes.count) { i, schema in changes[i](schema) }
            return
        }
        if args.count == 4, args[1] == "make-history", let count = Int(args[3]) {
            try makeProject(directory: args[2], count: count) { i, schema in mixedOp(i, schema: schema) }
            return
        }
        guard args.count >= 4, args[1] == "make-project", let count = Int(args[3]) else {
            FileHandle.standardError.write(Data("usage: strata-bench make-project DIR EVENTS [TABLES] | make-registry STORE PROJECT EVENTS\n".utf8))
            exit(2)
        }
        let tables = args.count > 4 ? Int(args[4]) ?? 50 : 50
        try makeProject(directory: args[2], count: count) { i, schema in nextOp(i, tables: tables, schema: schema) }
    }

    /// One push request (base: none) of `count` events, each creating a
    /// table: what a first push of a long history sends the registry.
    static func pushBody(path: String, count: Int) throws {
        var head: String?
        var events: [JSON] = []
        for i in 0..<count {
            let t = Table(name: "t\(i)", columns: [Column(name: "id", type: "INTEGER"), Column(name: "name", type: "TEXT")],
                          constraints: TableConstraints(primaryKey: ["id"]))
            let e = Event(parents: head.map { [$0] } ?? [], author: "bench@example.com", timestamp: 1_764_000_000_000 + Int64(i),
                          message: "event \(i)", ops: [.createTable(t, indexes: [], triggers: [])])
            events.append(e.jsonWithID)
            head = e.id
        }
        try Data(JSON.object(["base": .null, "events": .array(events)]).canonicalBytes).write(to: URL(fileURLWithPath: path))
    }

    /// A project whose log holds `count` events of one op each, `next` giving each.
    static func makeProject(directory: String, count: Int, next: (Int, Schema) -> Op) throws {
        let config = Config(project: "bench", node: "bench", author: "bench@example.com", models: "models.sql", databases: ["app.db"])
        let project = try Project.initialize(directory: directory, config: config)
        var head: String?
        var schema = Schema.empty
        var batch: [Event] = []
        let start = Date()
        for i in 0..<count {
            let op = next(i, schema)
            try schema.apply(op)
            let e = Event(parents: head.map { [$0] } ?? [], author: "bench@example.com", timestamp: 1_764_000_000_000 + Int64(i),
                          message: "event \(i)", ops: [op])
            batch.append(e)
            head = e.id
            if batch.count == 1000 {
                try project.log.append(batch, expectedHeads: nil)
                batch = []
            }
        }
        try project.log.append(batch, expectedHeads: nil)
        print("\(directory): \(count) events in \(String(format: "%.1f", Date().timeIntervalSince(start))) s; head \(head ?? "base")")
    }

    /// A registry store holding `count` events pushed (and validated) in batches.
    static func makeRegistry(store path: String, project: String, count: Int) async throws {
        let store = try await openRegistryStore(path)
        try await store.createProject(project, by: "bench", at: "2026-01-01T00:00:00.000Z")
        var head: String?
        var schema = Schema.empty
        var batch: [Event] = []
        var base: String?
        for i in 0..<count {
            let op = nextOp(i, tables: 50, schema: schema)
            try schema.apply(op)
            let e = Event(parents: head.map { [$0] } ?? [], author: "bench@example.com", timestamp: 1_764_000_000_000 + Int64(i),
                          message: "event \(i)", ops: [op])
            batch.append(e)
            head = e.id
            if batch.count == 1000 || i == count - 1 {
                base = try await store.push(batch, to: project, base: base, by: "bench", at: "2026-01-01T00:00:00.000Z")
                batch = []
            }
        }
        print("\(path): project \(project) with \(count) events; head \(head ?? "base")")
    }

    /// A history like a team's: every tenth event creates a table (with an
    /// index); the others change one table in turn, in a cycle of what
    /// models files change: a column added, indexed, its type changed, made
    /// NOT NULL with a default, its default changed, renamed, its index
    /// dropped, the column dropped. Type, NOT NULL and default changes are
    /// rebuilds in SQLite.
    static func mixedOp(_ i: Int, schema: Schema) -> Op {
        let tableCount = i / 10 + 1
        if i % 10 == 0 {
            let name = "t\(i / 10)"
            let t = Table(name: name, columns: [Column(name: "id", type: "INTEGER"), Column(name: "name", type: "TEXT", notNull: true, defaultValue: "''"),
                                                Column(name: "created", type: "TEXT")],
                          constraints: TableConstraints(primaryKey: ["id"]))
            return .createTable(t, indexes: [Index(name: "ix_\(name)_name", table: name, terms: ["name"])], triggers: [])
        }
        let name = "t\((i / 10 * 7 + i) % tableCount)"
        let t = schema.table(name)!
        let step = (i % 10) - 1
        let extra = t.columns.count > 3 ? t.columns[3] : nil
        let index = extra.flatMap { c in schema.indexes(on: name).first { $0.terms == [c.name] } }
        func alter(_ change: (inout Column) -> Void) -> Op {
            var c = extra!
            change(&c)
            return .alterColumn(table: name, from: extra!, to: c)
        }
        switch (step, extra) {
        case (_, nil): return .addColumn(table: name, column: Column(name: "c\(i)", type: "TEXT"), position: 3)
        case (0...1, let c?) where index == nil: return .createIndex(Index(name: "ix_\(name)_\(c.name)", table: name, terms: [c.name]))
        case (2, _) where extra!.type == "TEXT": return alter { $0.type = "VARCHAR(80)" }
        case (3, _) where !extra!.notNull: return alter { $0.notNull = true; $0.defaultValue = "''" }
        case (4, _): return alter { $0.defaultValue = $0.defaultValue == "''" ? "'none'" : "''" }
        case (5, let c?) where index == nil: return .renameColumn(table: name, from: c.name, to: "r\(i)")
        case (6...7, _) where index != nil: return .dropIndex(index!)
        case (8, let c?) where index == nil: return .dropColumn(table: name, column: c, position: 3)
        default: return .addColumn(table: name, column: Column(name: "k\(i)", type: "INTEGER", defaultValue: "0"), position: t.columns.count)
        }
    }

    /// Five tables (events 1-5), then 20 changes to them, round robin: a
    /// column added in the middle, a type and a default changed (three
    /// rebuilds each, event by event), then an index, or the new column
    /// made NOT NULL with a default (a fourth rebuild that rewrites values,
    /// which a run keeps).
    static func wideChanges() -> [(Schema) -> Op] {
        let tables = (0..<5).map { "w\($0)" }
        var changes: [(Schema) -> Op] = tables.map { name in { _ in
            .createTable(Table(name: name, columns: [Column(name: "id", type: "INTEGER"), Column(name: "name", type: "TEXT", notNull: true, defaultValue: "''"),
                                                     Column(name: "body", type: "TEXT"), Column(name: "n", type: "INTEGER")],
                               constraints: TableConstraints(primaryKey: ["id"])),
                         indexes: [Index(name: "ix_\(name)_name", table: name, terms: ["name"])], triggers: [])
        } }
        func alter(_ table: String, _ column: String, _ change: @escaping (inout Column) -> Void) -> (Schema) -> Op {
            { schema in
                let c = schema.table(table)!.column(column)!
                var d = c
                change(&d)
                return .alterColumn(table: table, from: c, to: d)
            }
        }
        changes += tables.map { name in { _ in .addColumn(table: name, column: Column(name: "note", type: "TEXT"), position: 2) } }
        changes += tables.map { alter($0, "body") { $0.type = "VARCHAR(200)" } }
        changes += tables.map { alter($0, "name") { $0.defaultValue = "'anon'" } }
        changes += tables.enumerated().map { k, name in
            k % 2 == 0 ? { _ in .createIndex(Index(name: "ix_\(name)_n", table: name, terms: ["n"])) } : alter(name, "note") { $0.notNull = true; $0.defaultValue = "''" }
        }
        return changes
    }

    /// The first `tables` events create tables; after that each event adds a
    /// column, an index, or takes one away, so the schema stays bounded.
    static func nextOp(_ i: Int, tables: Int, schema: Schema) -> Op {
        if i < tables {
            let t = Table(name: "t\(i)", columns: [Column(name: "id", type: "INTEGER"), Column(name: "name", type: "TEXT", notNull: true, defaultValue: "''")],
                          constraints: TableConstraints(primaryKey: ["id"]))
            return .createTable(t, indexes: [Index(name: "ix_t\(i)_name", table: "t\(i)", terms: ["name"])], triggers: [])
        }
        let name = "t\(i % tables)"
        let t = schema.table(name)!
        if t.columns.count > 2 {
            let extra = t.columns[2]
            if let index = schema.indexes(on: name).first(where: { $0.terms == [extra.name] }) { return .dropIndex(index) }
            return .dropColumn(table: name, column: extra, position: 2)
        }
        if (i / tables) % 3 == 2 {
            return .addColumn(table: name, column: Column(name: "c\(i)", type: "INTEGER", defaultValue: "0"), position: 2)
        }
        return .addColumn(table: name, column: Column(name: "c\(i)", type: "TEXT"), position: 2)
    }
}
