import StrataLog
import StrataCore
import StrataSQLite
import Strata

/// Planning goes through the library's `SchemaMigrator`, over the local
/// log: the CLI migrates as an app does, with the project's settings
/// (trusted keys, `exclude`) on top.
extension Project {
    package typealias UpgradeTarget = Strata.UpgradeTarget
    package typealias DowngradeTarget = Strata.DowngradeTarget

    /// The migrator over this project's log.
    package var migrator: SchemaMigrator {
        get throws {
            var migrator = SchemaMigrator(history: SchemaHistory(store: LogHistory(log)))
            migrator.keepsDroppedData = config.keepDroppedData
            let patterns = config.exclude
            if !patterns.isEmpty { migrator.managedElsewhere = { Project.excluding($0, by: patterns) } }
            if let keys = try trustedKeys() {
                let required = config.signaturesRequired, file = config.trustedKeys ?? ""
                migrator.trust = { events in try Project.check(events, against: keys, required: required, file: file, "nothing was run") }
            }
            return migrator
        }
    }

    /// Events from the log, and from the database's own copies for those the
    /// log lacks (a database migrated by a newer log can still go back).
    package func source(for db: TargetDatabase) throws -> CombinedSource { try migrator.source(for: db) }

    package static func parseUpgradeTarget(_ s: String) throws -> UpgradeTarget {
        if s.lowercased() == "head" { return .head }
        if s.hasPrefix("+") {
            guard let n = Int(s.dropFirst()), n > 0 else { throw ProjectError("\(s): expected +N with N a positive number") }
            return .relative(n)
        }
        if s.hasPrefix("-") { throw ProjectError("\(s): upgrade goes forward; use `strata downgrade \(s)`") }
        return .revision(s)
    }

    package static func parseDowngradeTarget(_ s: String) throws -> DowngradeTarget {
        if s.lowercased() == "base" { return .base }
        if s.hasPrefix("-") {
            guard let n = Int(s.dropFirst()), n > 0 else { throw ProjectError("\(s): expected -N with N a positive number") }
            return .relative(n)
        }
        if s.hasPrefix("+") || s.lowercased() == "head" { throw ProjectError("\(s): downgrade goes back; use `strata upgrade \(s)`") }
        return .revision(s)
    }

    /// The plan that brings `db` to `goal`; nil when it is there already.
    package func plan(_ goal: MigrationGoal, for db: TargetDatabase, context: MigrationContext) throws -> MigrationPlan? {
        try migrator.plan(goal, for: db, context: context)
    }

    /// The events from base to `id`, for stamping and materializing.
    package func lineage(of id: String?) throws -> [Event] {
        guard let id else { return [] }
        return try log.range(from: nil, to: id)
    }
}

/// The local log as the library's history store.
final class LogHistory: HistoryStore {
    let log: any EventLog
    init(_ log: any EventLog) { self.log = log }
    func event(_ id: String) throws -> Event { try log.event(id) }
    func height(_ id: String) throws -> Int { try log.height(id) }
    func contains(_ id: String) throws -> Bool { try log.contains(id) }
    func head() throws -> String? { try log.head() }
    func resolve(_ revision: String) throws -> String? { try log.resolve(revision) }
    func state(at id: String?) throws -> Schema { try log.state(at: id) }
}
