import Foundation
import StrataCore
import StrataSQLite
import Strata

/// What a run did to one database that did not fail.
package enum MigrationOutcome: Sendable {
    /// `--sql`: the script a run would execute; nothing was touched.
    case script(database: String, String)
    /// The database is at the goal already.
    case unchanged(database: String, revision: String?, sqlOnly: Bool)
    /// The plan ran and committed; what it kept of the data it destroyed.
    case migrated(database: String, MigrationPlan, TrashReport)

    package var database: String {
        switch self {
        case let .script(database, _), let .unchanged(database, _, _), let .migrated(database, _, _): return database
        }
    }
}

/// Running plans over databases: each database in its own transaction, and
/// a database that fails does not stop the others (unless `failFast`).
extension Project {
    /// Plans and runs (or with `sqlOnly` prints) the way to `goal` for each
    /// database, telling `each` what happened to each as it happens. Every
    /// database is checked for drift inside its migration's transaction
    /// (unless `ignoreDrift`); a database that does not exist yet appears
    /// only once it is migrated (`createAndMigrate`). Returns the failures. Errors that concern
    /// the log rather than a database (no head to go to) are thrown first.
    package func migrate(_ paths: [String], to goal: MigrationGoal, sqlOnly: Bool, options: RunOptions = RunOptions(),
                        each: @escaping (Result<MigrationOutcome, DatabaseFailure>) -> Void) throws -> [DatabaseFailure] {
        try checkGoal(goal)
        var runContext = migrationContext
        runContext.allowIrreversible = options.allowIrreversible
        runContext.compact = options.compact
        runContext.fill = options.fill
        let context = runContext
        return run(paths, options: options, work: { project, path in
            project.migrateOne(path, to: goal, sqlOnly: sqlOnly, options: options, context: context)
        }, each: each)
    }

    func checkGoal(_ goal: MigrationGoal) throws {
        switch goal {
        case .upgrade(.head), .upgrade(.relative):
            guard try log.head() != nil else {
                throw ProjectError("the log is empty: there is no head to upgrade to; run `strata revision --autogenerate -m MESSAGE` first")
            }
        default: break
        }
    }

    func migrateOne(_ path: String, to goal: MigrationGoal, sqlOnly: Bool, options: RunOptions,
                    context: MigrationContext) -> Result<MigrationOutcome, DatabaseFailure> {
        let exists = FileManager.default.fileExists(atPath: path)
        do {
            if sqlOnly {
                // Plan against the file if there is one, else from base; never create it.
                let db = exists ? try TargetDatabase(path: path, create: false) : try TargetDatabase(path: ":memory:")
                if let planned = try cachedPlan(goal, for: db, context: context) { return .success(.script(database: path, planned.script)) }
                return .success(.unchanged(database: path, revision: try db.currentRevision(), sqlOnly: true))
            }
            if !exists, let outcome = try createAndMigrate(path, to: goal, options: options, context: context) {
                return .success(outcome)
            }
            let db = try TargetDatabase(path: path, create: false, waitSeconds: options.waitSeconds)
            guard let planned = try cachedPlan(goal, for: db, context: context) else {
                return .success(.unchanged(database: path, revision: try db.currentRevision(), sqlOnly: false))
            }
            let trash = try db.apply(planned, checkingDrift: !options.ignoreDrift)
            return .success(.migrated(database: path, planned, trash))
        } catch {
            return .failure(DatabaseFailure(path, error))
        }
    }

    /// A database that does not exist yet is made whole before anyone sees
    /// it: created and migrated under a hidden name beside it, then linked
    /// into place, which fails if another process got there first. So a
    /// concurrent run never finds a half-made file, and nothing ever removes
    /// a file this process did not create. Nil when another process created
    /// the database meanwhile: the caller migrates that one.
    func createAndMigrate(_ path: String, to goal: MigrationGoal, options: RunOptions, context: MigrationContext) throws -> MigrationOutcome? {
        let url = URL(fileURLWithPath: path)
        let scratch = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).strata-new-\(UUID().uuidString)").path
        defer {
            for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: scratch + suffix) }
        }
        let outcome: MigrationOutcome
        do {
            let db = try TargetDatabase(path: scratch, create: true, waitSeconds: options.waitSeconds)
            if let planned = try cachedPlan(goal, for: db, context: context) {
                outcome = .migrated(database: path, planned, try db.apply(planned, checkingDrift: !options.ignoreDrift))
            } else {
                outcome = .unchanged(database: path, revision: try db.currentRevision(), sqlOnly: false)
            }
        }  // closed here: the file is complete on disk before it is linked
        guard link(scratch, path) == 0 else {
            if errno == EEXIST { return nil }
            throw ProjectError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        return outcome
    }

    /// Databases at the same revision (one the log holds) going to the same
    /// goal get the same plan: it is made once per run, not once per
    /// database, and the cache holds one plan per revision met.
    func cachedPlan(_ goal: MigrationGoal, for db: TargetDatabase, context: MigrationContext) throws -> MigrationPlan? {
        let current = try db.currentRevision()
        var cacheable = try current.map { try log.contains($0) } ?? true
        switch goal {
        case .upgrade(.revision(let r)), .downgrade(.revision(let r)): cacheable = cacheable && (try? log.resolve(r)) != nil
        default: break
        }
        let key = "\(goal) from \(current ?? "base") at \(context.now)"
        if cacheable, let hit = planCache[key] { return hit }
        let planned = try plan(goal, for: db, context: context)
        if cacheable { planCache[key] = .some(planned) }
        return planned
    }

    /// Records `revision` in each database without running anything
    /// (adopting an existing database); `each` hears of each one.
    package func stamp(_ paths: [String], at revision: String, options: RunOptions = RunOptions(),
                      each: @escaping (Result<(database: String, revision: String?), DatabaseFailure>) -> Void) throws -> [DatabaseFailure] {
        let id = try log.resolve(revision)
        let lineage = try lineage(of: id)
        let context = migrationContext
        return run(paths, options: options, work: { _, path in
            do {
                let db = try TargetDatabase(path: path, create: true, waitSeconds: options.waitSeconds)
                try db.stamp(id, events: lineage, context: context)
                return .success((path, id))
            } catch {
                return .failure(DatabaseFailure(path, error))
            }
        }, each: each)
    }

    /// Writes a new database file whose schema is the state at `revision`,
    /// stamped there. Returns the revision's full id (nil for base).
    package func materialize(_ revision: String, to file: String) throws -> String? {
        let id = try log.resolve(revision)
        guard !FileManager.default.fileExists(atPath: file) else {
            throw ProjectError("\(file) exists; materialize writes a new file only (remove it or pick another name)")
        }
        try migrator.materialize(id, to: file, context: migrationContext)
        return id
    }
}

extension Project {
    /// The databases the last run of `command` left failed (for `--retry-failed`).
    package func lastFailures(of command: String) throws -> [String] {
        guard let text = try log.meta("failed/\(command)"), let list = try JSON.parse(text).arrayValue else { return [] }
        return list.compactMap(\.stringValue)
    }

    /// Remembers which databases a run of `command` left failed (none
    /// clears it). The log is written only when the list changes.
    package func rememberFailures(_ paths: [String], of command: String) throws {
        guard try lastFailures(of: command) != paths else { return }
        try log.setMeta("failed/\(command)", paths.isEmpty ? nil : JSON.array(paths.map(JSON.string)).canonicalString)
    }
}

extension Project {
    /// Writes the events from base to `revision` as one bundle file (see
    /// `SchemaBundle`), replacing `file` atomically. Returns what it holds.
    package func bundle(at revision: String, to file: String) throws -> (head: String?, events: Int, bytes: Int) {
        let id = try log.resolve(revision)
        let events = try lineage(of: id)
        let bytes = SchemaBundle.encode(events, head: id)
        do { try Data(bytes).write(to: URL(fileURLWithPath: file), options: .atomic) } catch {
            throw ProjectError("cannot write \(file): \(error.localizedDescription)")
        }
        return (id, events.count, bytes.count)
    }
}
