import Foundation
import StrataCore
import StrataSQLite

/// What one database keeps of destroyed data (`strata trash`), before or
/// after a purge.
package struct DatabaseTrash: Sendable {
    package let database: String
    package let stashes: [Stash]
}

/// `strata trash [--purge REV]`: what each database keeps so that a
/// downgrade brings dropped data back, and dropping it (people drop columns
/// to delete personal data: keeping it must be visible and undoable).
extension Project {
    /// Lists each database's stashes; with `purge`, drops those of that
    /// event and lists what was dropped.
    package func trash(_ paths: [String], purge revision: String?, options: RunOptions = RunOptions(),
                      each: @escaping (Result<DatabaseTrash, DatabaseFailure>) -> Void) throws -> [DatabaseFailure] {
        let event = try revision.map { r -> String in
            if let id = try? log.resolve(r) { return id }
            // An event the log no longer names (a pruned branch) is still named by its stashes' prefix.
            guard r.count >= 4, r.allSatisfy(\.isHexDigit) else { throw ProjectError("unknown revision \(r); `strata trash` lists the events that have kept data") }
            return r
        }
        return run(paths, options: options, work: { _, path in
            do {
                let db = try TargetDatabase(path: path, create: false, waitSeconds: options.waitSeconds)
                guard let event else { return .success(DatabaseTrash(database: path, stashes: try db.stashes())) }
                let full = event.count == 64 ? event : try db.stashes().first { $0.event.hasPrefix(event) }?.event ?? event
                return .success(DatabaseTrash(database: path, stashes: try db.purgeTrash(event: full)))
            } catch {
                return .failure(DatabaseFailure(path, error))
            }
        }, each: each)
    }
}
