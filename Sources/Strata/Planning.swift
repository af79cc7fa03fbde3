import StrataCore
import StrataSQLite

/// Where an upgrade goes (`strata upgrade TARGET`).
package enum UpgradeTarget: Equatable, Sendable { case head, revision(String), relative(Int) }
/// Where a downgrade goes (`strata downgrade TARGET`).
package enum DowngradeTarget: Equatable, Sendable { case base, revision(String), relative(Int) }

/// Where a run over databases goes.
package enum MigrationGoal: Equatable, Sendable {
    case upgrade(UpgradeTarget)
    case downgrade(DowngradeTarget)
    /// To exactly this revision, up or down, through the common ancestor
    /// (`sync --apply`, and a library run whose database is ahead).
    case move(to: String?)
}

/// The events from a database's revision to a goal, in the order they
/// run: down to the common ancestor, then up.
package struct Route {
    package let from: String?
    package let to: String?
    package let steps: [MigrationStep]
    package let source: CombinedSource
    /// Where the way down ends and the way up starts: the newest common
    /// ancestor of both ends.
    package let meet: String?
}

/// Planning: the way from a database's revision to a target, through the
/// history and the database's own copies of events. Pure reads; nothing
/// here touches a database's schema.
extension SchemaMigrator {
    /// Events from the history, and from the database's own copies for those
    /// the history lacks (a database migrated by a newer history can go back).
    package func source(for db: TargetDatabase) -> CombinedSource { CombinedSource(history: history.store, database: db) }

    /// The plan that brings `db` to `goal`; nil when it is there already.
    package func plan(_ goal: MigrationGoal, for db: TargetDatabase, context: MigrationContext) throws -> MigrationPlan? {
        guard let route = try route(goal, for: db) else { return nil }
        return try plan(route, for: db, context: context)
    }

    /// The events between `db`'s revision and `goal`; nil when it is there.
    package func route(_ goal: MigrationGoal, for db: TargetDatabase) throws -> Route? {
        switch goal {
        case .upgrade(let target): return try routeUpgrade(db, to: target)
        case .downgrade(let target): return try routeDowngrade(db, to: target)
        case .move(let revision): return try routeMove(db, to: revision)
        }
    }

    /// The statements of `route`, once every event it would run forward
    /// passes the trust rule. A way down that undoes an event only the
    /// database's records hold (a copy keeps no signature) is not refused:
    /// it removes what ran.
    package func plan(_ route: Route, for db: TargetDatabase, context: MigrationContext) throws -> MigrationPlan {
        var context = context
        context.keptByDowngrades = try db.stashesOfDowngrades()
        if let trust {
            try trust(route.steps.filter { $0.direction == .up || (try? route.source.history.contains($0.event.id)) == true }.map(\.event))
        }
        return try Migrator.plan(start: try route.source.state(at: route.from), from: route.from, to: route.to, steps: route.steps, context: context)
    }

    /// Plans an upgrade; nil when the database is already there.
    package func routeUpgrade(_ db: TargetDatabase, to target: UpgradeTarget) throws -> Route? {
        let source = source(for: db)
        let current = try db.currentRevision()
        if let current, !(try source.contains(current)) { throw MigrationError.unknownRevision(db.path, current) }
        let goal: String
        switch target {
        case .head:
            guard let h = try history.store.head() else { throw MigratorError.emptyHistory }
            goal = h
        case .revision(let r):
            guard let id = try resolveRevision(r, source: source) else { throw MigratorError.upgradeToBase }
            goal = id
        case .relative(let n):
            guard let h = try history.store.head() else { throw MigratorError.emptyHistory }
            var chain: [String] = []
            var cursor: String? = h
            while let c = cursor, c != current {
                let e = try source.event(c)
                guard e.parents.count <= 1 else { throw MigratorError.relative(.crossesMerge(n)) }
                chain.append(c)
                cursor = e.parents.first
            }
            guard cursor == current else { throw MigratorError.relative(.offPath(n)) }
            guard n <= chain.count else { throw MigratorError.relative(.pastHead(n, behind: chain.count)) }
            goal = chain[chain.count - n]
        }
        if goal == current { return nil }
        if let current {
            if try source.isAncestor(goal, of: current) { throw MigratorError.ahead(database: current, target: goal) }
            guard try source.isAncestor(current, of: goal) else {
                // A revision only the database's records hold (say, a local
                // revision that `sync` rebased): go back to the common
                // ancestor and forward again, in one transaction.
                if !(try history.store.contains(current)) { return try routeMove(db, to: goal) }
                throw MigratorError.diverged(database: current, target: goal)
            }
        }
        return Route(from: current, to: goal, steps: try source.range(from: current, to: goal).map { MigrationStep($0, .up) }, source: source, meet: current)
    }

    /// Plans a downgrade; nil when the database is already there.
    package func routeDowngrade(_ db: TargetDatabase, to target: DowngradeTarget) throws -> Route? {
        let source = source(for: db)
        guard let current = try db.currentRevision() else {
            if target == .base { return nil }
            throw MigratorError.atBase
        }
        guard try source.contains(current) else { throw MigrationError.unknownRevision(db.path, current) }
        let goal: String?
        switch target {
        case .base: goal = nil
        case .revision(let r): goal = try resolveRevision(r, source: source)
        case .relative(let n):
            var cursor: String? = current
            for step in 0..<n {
                guard let c = cursor else { throw MigratorError.relative(.pastBase(n, above: step)) }
                cursor = try source.event(c).parents.first
            }
            goal = cursor
        }
        if goal == current { return nil }
        if let goal, !(try source.isAncestor(goal, of: current)) { throw MigratorError.notBehind(target: goal, database: current) }
        return Route(from: current, to: goal, steps: try source.range(from: goal, to: current).reversed().map { MigrationStep($0, .down) }, source: source, meet: goal)
    }

    /// Plans the way from the database's revision to `goal`, whichever
    /// direction: down to their newest common ancestor, then up. Nil when
    /// the database is there already.
    package func routeMove(_ db: TargetDatabase, to goal: String?) throws -> Route? {
        let source = source(for: db)
        let current = try db.currentRevision()
        if current == goal { return nil }
        if let current, !(try source.contains(current)) { throw MigrationError.unknownRevision(db.path, current) }
        var meet: String?
        if let current, let goal {
            let mine = try source.ancestors(of: current)
            var best: (id: String, height: Int)?
            for id in try source.ancestors(of: goal) where mine.contains(id) {
                let h = try source.height(id)
                if best == nil || h > best!.height { best = (id, h) }
            }
            meet = best?.id
        }
        var steps: [MigrationStep] = []
        if let current { steps += try source.range(from: meet, to: current).reversed().map { MigrationStep($0, .down) } }
        if let goal { steps += try source.range(from: meet, to: goal).map { MigrationStep($0, .up) } }
        return Route(from: current, to: goal, steps: steps, source: source, meet: meet)
    }

    /// A revision as the history names it, or as a prefix of an event only
    /// the database's records hold.
    package func resolveRevision(_ r: String, source: CombinedSource) throws -> String? {
        do { return try history.store.resolve(r) } catch {
            let matches = try source.database?.storedEventIDs(withPrefix: r.lowercased()) ?? []
            if r.count >= 4 && matches.count == 1 { return matches[0] }
            throw error
        }
    }
}
