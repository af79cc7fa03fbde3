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
///        strata-bench make-registry STORE PROJECT EVENTS
@main
enum BenchTool {
    static func main() throws {
        let args = CommandLine.arguments
        if args.count == 5, args[1] == "make-registry", let count = Int(args[4]) {
            try makeRegistry(store: args[2], project: args[3], count: count)
            return
        }
        guard args.count >= 4, args[1] == "make-project", let count = Int(args[3]) else {
            FileHandle.standardError.write(Data("usage: strata-bench make-project DIR EVENTS [TABLES] | make-registry STORE PROJECT EVENTS\n".utf8))
            exit(2)
        }
        let tables = args.count > 4 ? Int(args[4]) ?? 50 : 50
        let config = Config(project: "bench", node: "bench", author: "bench@example.com", models: "models.sql", databases: ["app.db"])
        let project = try Project.initialize(directory: args[2], config: config)
        var head: String?
        var schema = Schema.empty
        var batch: [Event] = []
        let start = Date()
        for i in 0..<count {
            let op = nextOp(i, tables: tables, schema: schema)
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
        print("\(args[2]): \(count) events in \(String(format: "%.1f", Date().timeIntervalSince(start))) s; head \(head ?? "base")")
    }

    /// A registry store holding `count` events pushed (and validated) in batches.
    static func makeRegistry(store path: String, project: String, count: Int) throws {
        let store = try SQLiteRegistryStore(path: path)
        try store.createProject(project, by: "bench", at: "2026-01-01T00:00:00.000Z")
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
                base = try store.push(batch, to: project, base: base, by: "bench", at: "2026-01-01T00:00:00.000Z")
                batch = []
            }
        }
        print("\(path): project \(project) with \(count) events; head \(head ?? "base")")
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
