import Foundation
import StrataCore
import StrataSQLite
import StrataStore
import Strata
import StrataWire

extension Project {
    /// The registry client from strata.toml, with the token from
    /// the invocation (STRATA_TOKEN) or `token_file` (never from the command line).
    /// `project` names another project on the same registry (creating one).
    package func registryClient(project: String? = nil) throws -> RegistryClient {
        guard let url = config.registry, !url.isEmpty else { throw SyncError.notConfigured }
        var token = Invocation.token
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
        return RegistryClient(baseURL: url, project: project ?? config.project, token: token, transport: CurlTransport(caFile: caFile))
    }

    package func syncer(observer: any SyncObserver) throws -> Syncer { Syncer(project: self, client: try registryClient(), observer: observer) }

    /// A report of where a database is now, by this node.
    func report(database path: String, revision: String?, direction: Direction?, environment: String?, now: Int64, drifted: Bool?) -> Report {
        Report(node: config.node, database: databaseName(path), revision: revision ?? "base", direction: direction,
               at: Timestamp.iso8601(now), environment: environment, drifted: drifted)
    }

    /// Whether the database differs from the state at its revision (nil
    /// when that cannot be read).
    func drifted(_ path: String) -> Bool? { (try? drift(of: path)).map { !$0.changes.isEmpty } }

    /// Tells the registry (if one is configured) where databases are now.
    /// Returns why the reports were queued instead of delivered, or nil.
    package func deliver(_ reports: [Report], observer: any SyncObserver) -> Error? {
        guard config.registry != nil, !reports.isEmpty else { return nil }
        let syncer: Syncer
        do { syncer = try self.syncer(observer: observer) } catch { return error }
        return syncer.report(reports)
    }

    /// `migrate`, then reports to the registry for every database that
    /// moved (and, for an environment's run, every one already there), sent
    /// together once the run is over. `queued` hears which databases'
    /// reports wait in the outbox, and why.
    package func migrateAndReport(_ paths: [String], to goal: MigrationGoal, sqlOnly: Bool, options: RunOptions = RunOptions(),
                                 environment: String? = nil, observer: any SyncObserver, each: @escaping (Result<MigrationOutcome, DatabaseFailure>) -> Void,
                                 queued: ([String], Error) -> Void) throws -> [DatabaseFailure] {
        var reports: [Report] = []
        let now = Clock.nowMillis
        let reporting = config.registry != nil && !sqlOnly
        let failures = try migrate(paths, to: goal, sqlOnly: sqlOnly, options: options) { [self] result in
            each(result)
            // In an environment's run, a database that failed is reported too: a rollout counts them.
            // A lock is no failure of the migration: the next pass tries again.
            if reporting, let environment, case .failure(let failure) = result, failure.kind != .locked {
                let revision = (try? TargetDatabase(path: failure.database, create: false).currentRevision()) ?? nil
                var r = report(database: failure.database, revision: revision, direction: nil, environment: environment, now: now, drifted: drifted(failure.database))
                let code = (failure.error as? StrataError)?.errorCode ?? "error"
                r.failure = Report.failure(code: code, "\(failure.error)")
                reports.append(r)
                return
            }
            guard reporting, case .success(let outcome) = result else { return }
            switch outcome {
            case .script: return
            case let .unchanged(path, revision, _):
                if environment != nil {
                    reports.append(report(database: path, revision: revision, direction: nil, environment: environment, now: now, drifted: drifted(path)))
                }
            case let .migrated(path, plan, _):
                // The run checked drift inside its transaction: none, unless told to go past it.
                reports.append(report(database: path, revision: plan.toRevision, direction: plan.direction, environment: environment, now: now,
                                      drifted: options.ignoreDrift ? drifted(path) : false))
            }
        }
        if let error = deliver(reports, observer: observer) { queued(reports.map(\.database), error) }
        return failures
    }

    /// Sets an environment's target on the registry to a revision of this log.
    /// A target that is not ahead of the current one, and whose schema lacks
    /// tables or columns the current one has, drops them on every node that
    /// applies it: refused unless `allowBackward`, naming what it drops.
    package func promote(_ revision: String, environment: String, allowBackward: Bool = false,
                         rollout: RolloutRequest? = nil) throws -> (target: EnvironmentTarget, rollout: Rollout?) {
        let client = try registryClient()
        let goal = try revisionID(revision, purpose: "promoted")
        if !allowBackward, let current = try? client.target(environment: environment), current != goal {
            guard try log.contains(current) else {
                throw ProjectError("environment \(environment) targets \(current.prefix(12)), which this log does not hold; `strata pull` first, so that the promote can tell what it changes")
            }
            if !(try log.isAncestor(current, of: goal)) {
                let lost = try dropped(from: current, to: goal)
                if !lost.isEmpty {
                    throw ProjectError("promoting \(environment) from \(current.prefix(12)) back to \(goal.prefix(12)) drops \(lost.joined(separator: ", ")) "
                        + "on every node that applies it (their data goes to each database's trash, where a promote forward finds it again, unless the node sets "
                        + "keep_dropped_data = false). Pass --allow-backward to promote anyway")
                }
            }
        }
        return try client.setTarget(environment: environment, revision: goal, rollout: rollout)
    }

    /// The tables and columns a move from `current` back to `goal` drops:
    /// read from the inverted ops on the way down (a rename back is no drop);
    /// for a goal on another branch, from the two states.
    func dropped(from current: String, to goal: String) throws -> [String] {
        var lost: [String] = []
        if try log.isAncestor(goal, of: current) {
            for e in try log.range(from: goal, to: current).reversed() {
                for op in e.ops.inverted {
                    switch op {
                    case let .dropTable(t, _, _): lost.append("table \(t.name)")
                    case let .dropColumn(table, c, _): lost.append("column \(table).\(c.name)")
                    default: break
                    }
                }
            }
            return lost
        }
        let (have, want) = (try log.state(at: current), try log.state(at: goal))
        for t in Schema.byName(have.tables.values) {
            guard let kept = want.table(t.name) else { lost.append("table \(t.name)"); continue }
            lost += t.columns.filter { kept.column($0.name) == nil }.map { "column \(t.name).\($0.name)" }
        }
        return lost
    }
}

extension Syncer {
    /// `sync --apply --env ENV`: brings the databases to the environment's
    /// target, up or down, and reports each. `announce` hears the target first.
    package func apply(environment: String, databases paths: [String], options: RunOptions = RunOptions(), announce: (String) -> Void,
                      each: @escaping (Result<MigrationOutcome, DatabaseFailure>) -> Void,
                      queued: ([String], Error) -> Void) throws -> [DatabaseFailure] {
        let target = try client.target(environment: environment, node: project.config.node)
        announce(target)
        return try project.migrateAndReport(paths, to: .move(to: target), sqlOnly: false, options: options, environment: environment,
                                            observer: observer, each: each, queued: queued)
    }
}
