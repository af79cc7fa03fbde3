import Foundation
import GRDB
import Strata

/// `grdb-startup BUNDLE DATABASE`: an app that uses GRDB for its queries
/// and strata for its schema. The migration runs by path before the
/// `DatabaseQueue` opens: GRDB keeps its own authorizer on its connection
/// (for observation), which strata's would replace, so GRDB's connection is
/// not handed to `migrate(connection:)`.
@main
enum GRDBStartup {
    static func main() throws {
        let args = CommandLine.arguments
        guard args.count == 3 else {
            FileHandle.standardError.write(Data("usage: grdb-startup BUNDLE DATABASE\n".utf8))
            exit(2)
        }
        let migrator = SchemaMigrator(history: try SchemaHistory(contentsOf: URL(fileURLWithPath: args[1])))
        // What GRDB's `eraseDatabaseOnSchemaChange` did in development, with
        // the data kept: a database a newer build wrote goes back to this one's head.
        let result = try migrator.migrate(databaseAt: args[2], ifAhead: .downgrade, appliedBy: "grdb-startup", node: "example")
        let dbQueue = try DatabaseQueue(path: args[2])
        let tables = try dbQueue.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'strata_%' ORDER BY name")
        }
        print("\(args[2]): at \(result.to.map { String($0.prefix(12)) } ?? "base"), \(result.applied.count) applied; tables: \(tables.joined(separator: ", "))")
    }
}
