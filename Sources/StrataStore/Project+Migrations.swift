import Foundation
import StrataCore
import StrataSQLite

/// Where a run over databases goes.
public enum MigrationGoal: Equatable, Sendable {
    case upgrade(Project.UpgradeTarget)
    case downgrade(Project.DowngradeTarget)
    /// To exactly this revision, up or down, through the common ancestor (`sync --apply`).
    case move(to: String?)
}

/// What a run did to one database.
public enum MigrationOutcome: Sendable {
    /// `--sql`: the script a run would execute; nothing was touched.
    case script(database: String, String)
    /// The database is at the goal already.
    case unchanged(database: String, revision: String?, sqlOnly: Bool)
    /// The plan ran and committed.
    case migrated(database: String, MigrationPlan)

    public var database: String {
        switch self {
        case let .script(database, _), let .unchanged(database, _, _), let .migrated(database, _): return database
        }
    }
}

/// Running plans over databases: each database in its own transaction.
extension Project {
    /// The plan that brings `db` to `goal`; nil when it is there already.
    public func plan(_ goal: MigrationGoal, for db: TargetDatabase, context: MigrationContext) throws -> MigrationPlan? {
        switch goal {
        case .upgrade(let target): return try planUpgrade(db, to: target, context: context)
        case .downgrade(let target): return try planDowngrade(db, to: target, context: context)
        case .move(let revision): return try planMove(db, to: revision, context: context)
        }
    }

    /// Plans and runs (or with `sqlOnly` prints) the way to `goal` for each
    /// database in turn, telling `each` what happened as it happens. Stops
    /// at the first failure; a database this run created and could not
    /// migrate is removed again.
    public func migrate(_ paths: [String], to goal: MigrationGoal, sqlOnly: Bool, each: (MigrationOutcome) -> Void) throws {
        let context = migrationContext
        for path in paths {
            let exists = FileManager.default.fileExists(atPath: path)
            if sqlOnly {
                // Plan against the file if there is one, else from base; never create it.
                let db = exists ? try TargetDatabase(path: path, create: false) : try TargetDatabase(path: ":memory:")
                if let planned = try plan(goal, for: db, context: context) {
                    each(.script(database: path, planned.script))
                } else {
                    each(.unchanged(database: path, revision: try db.currentRevision(), sqlOnly: true))
                }
                continue
            }
            let db = try TargetDatabase(path: path, create: true)
            do {
                guard let planned = try plan(goal, for: db, context: context) else {
                    each(.unchanged(database: path, revision: try db.currentRevision(), sqlOnly: false))
                    continue
                }
                try db.apply(planned)
                each(.migrated(database: path, planned))
            } catch {
                if !exists, (try? db.currentRevision()) == nil { try? FileManager.default.removeItem(atPath: path) }
                throw error
            }
        }
    }

    /// Records `revision` in each database without running anything
    /// (adopting an existing database); `each` hears of each one stamped.
    public func stamp(_ paths: [String], at revision: String, each: (String, String?) -> Void) throws {
        let id = try log.resolve(revision)
        let lineage = try lineage(of: id)
        for path in paths {
            let db = try TargetDatabase(path: path, create: true)
            try db.stamp(id, events: lineage, context: migrationContext)
            each(path, id)
        }
    }

    /// Writes a new database file whose schema is the state at `revision`,
    /// stamped there. Returns the revision's full id (nil for base).
    public func materialize(_ revision: String, to file: String) throws -> String? {
        let id = try log.resolve(revision)
        guard !FileManager.default.fileExists(atPath: file) else {
            throw ProjectError("\(file) exists; materialize writes a new file only (remove it or pick another name)")
        }
        do {
            let db = try TargetDatabase(path: file, create: true)
            try db.create(try log.state(at: id))
            try db.stamp(id, events: try lineage(of: id), context: migrationContext)
        } catch {
            try? FileManager.default.removeItem(atPath: file)
            throw error
        }
        return id
    }
}
