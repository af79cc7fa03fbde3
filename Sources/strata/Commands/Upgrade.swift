import ArgumentParser
import Foundation
import StrataSQLite
import StrataStore
import StrataSync

extension StrataCommand {
    struct Upgrade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply events to the database, in one transaction.",
            discussion: "TARGET is head, a revision (4+ hex digits), or +N.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions

        @Argument(help: "head, REV or +N.")
        var target = "head"

        @Flag(help: "Print the SQL and touch nothing.")
        var sql = false

        func run() throws {
            let p = try project.open()
            let goal = try Project.parseUpgradeTarget(target)
            try migrate(p, databases: try databases.paths(in: p), sqlOnly: sql) { db in
                try p.planUpgrade(db, to: goal, context: p.migrationContext)
            }
        }
    }
}

/// Reports a migration to the registry; says so when the report had to wait.
func report(_ p: Project, database path: String, revision: String?, direction: String, environment: String?) {
    if let error = p.reportMigration(database: path, revision: revision, direction: direction, environment: environment, now: Clock.nowMillis) {
        warn("the report for \(p.databaseName(path)) is queued and will be sent by a later command: \(error)")
    }
}

/// Shared by upgrade and downgrade: plan per database, then print or apply.
func migrate(_ p: Project, databases: [String], sqlOnly: Bool, environment: String? = nil,
             plan: (TargetDatabase) throws -> MigrationPlan?) throws {
    for path in databases {
        let exists = FileManager.default.fileExists(atPath: path)
        if sqlOnly {
            // Plan against the file if there is one, else from base; never create it.
            let db = exists ? try TargetDatabase(path: path, create: false) : try TargetDatabase(path: ":memory:")
            if let planned = try plan(db) { print(planned.script, terminator: "") } else { print("-- \(path) is already there") }
            continue
        }
        let db = try TargetDatabase(path: path, create: true)
        do {
            guard let planned = try plan(db) else {
                print("\(path): already at \(try db.currentRevision()?.short ?? "base")")
                continue
            }
            try db.apply(planned)
            var last: String?
            for item in planned.items where item.event != nil && item.event != last {
                last = item.event
                print("  \(item.direction == .up ? "up  " : "down") \(item.event!.short)  \(item.message)")
            }
            print("\(path): \(planned.fromRevision?.short ?? "base") -> \(planned.toRevision?.short ?? "base")")
            report(p, database: path, revision: planned.toRevision, direction: planned.direction.rawValue, environment: environment)
        } catch {
            // A database this command created and could not migrate is removed again.
            if !exists, (try? db.currentRevision()) == nil { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
    }
}
