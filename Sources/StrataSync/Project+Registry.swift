import Foundation
import StrataCore
import StrataSQLite
import StrataStore
import StrataWire

extension Project {
    /// The registry client from strata.toml, with the token from
    /// STRATA_TOKEN or `token_file` (never from the command line).
    public func registryClient() throws -> RegistryClient {
        guard let url = config.registry, !url.isEmpty else { throw SyncError.notConfigured }
        var token = ProcessInfo.processInfo.environment["STRATA_TOKEN"]
        if token == nil, let file = config.tokenFile {
            guard let text = try? String(contentsOfFile: path(file), encoding: .utf8) else {
                throw ProjectError("cannot read token_file \(path(file)) named in \(Config.fileName)")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var caFile: String?
        if let file = config.caFile {
            let resolved = path(file)
            guard FileManager.default.isReadableFile(atPath: resolved) else {
                throw ProjectError("cannot read ca_file \(resolved) named in \(Config.fileName); point it at a PEM file of CA certificates")
            }
            caFile = resolved
        }
        return RegistryClient(baseURL: url, project: config.project, token: token, transport: CurlTransport(caFile: caFile))
    }

    public func syncer() throws -> Syncer { Syncer(project: self, client: try registryClient()) }

    /// Tells the registry (if one is configured) where a database is now.
    /// Returns why the report was queued instead of delivered, or nil.
    public func reportMigration(database path: String, revision: String?, direction: Direction?, environment: String? = nil,
                                now: Int64) -> Error? {
        guard config.registry != nil else { return nil }
        let syncer: Syncer
        do { syncer = try self.syncer() } catch { return error }
        let report = Report(node: config.node, database: databaseName(path), revision: revision ?? "base", direction: direction,
                            at: Timestamp.iso8601(now), environment: environment)
        return syncer.report(report)
    }

    /// `migrate`, then a report to the registry for every database that
    /// moved (and, for an environment's run, every one already there).
    /// `queued` hears of each report that waits in the outbox, and why.
    public func migrateAndReport(_ paths: [String], to goal: MigrationGoal, sqlOnly: Bool, environment: String? = nil,
                                 each: (MigrationOutcome) -> Void, queued: (String, Error) -> Void) throws {
        try migrate(paths, to: goal, sqlOnly: sqlOnly) { outcome in
            each(outcome)
            let report: (revision: String?, direction: Direction?)
            switch outcome {
            case .script: return
            case let .unchanged(_, revision, _):
                guard environment != nil else { return }
                report = (revision, nil)
            case let .migrated(_, plan): report = (plan.toRevision, plan.direction)
            }
            if let error = reportMigration(database: outcome.database, revision: report.revision, direction: report.direction,
                                           environment: environment, now: Clock.nowMillis) {
                queued(databaseName(outcome.database), error)
            }
        }
    }

    /// Sets an environment's target on the registry to a revision of this log.
    public func promote(_ revision: String, environment: String) throws -> EnvironmentTarget {
        try registryClient().setTarget(environment: environment, revision: try revisionID(revision, purpose: "promoted"))
    }
}

extension Syncer {
    /// `sync --apply --env ENV`: brings every configured database to the
    /// environment's target, up or down, and reports each. Returns the target.
    public func apply(environment: String, announce: (String) -> Void, each: (MigrationOutcome) -> Void,
                      queued: (String, Error) -> Void) throws {
        let target = try client.target(environment: environment)
        announce(target)
        try project.migrateAndReport(try project.databasePaths([], all: true), to: .move(to: target), sqlOnly: false,
                                     environment: environment, each: each, queued: queued)
    }
}
