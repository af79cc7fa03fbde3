import StrataCore
import StrataSQLite

/// Planning: the way from a database's revision to a target, through the
/// log and the database's own copies of events. Pure reads; nothing here
/// touches a database's schema.
extension Project {
    /// Events from the log, and from the database's own copies for those the
    /// log lacks (a database migrated by a newer log can still go back).
    public func source(for db: TargetDatabase) throws -> CombinedSource { CombinedSource(log: log, database: db) }

    public enum UpgradeTarget: Equatable, Sendable { case head, revision(String), relative(Int) }
    public enum DowngradeTarget: Equatable, Sendable { case base, revision(String), relative(Int) }

    public static func parseUpgradeTarget(_ s: String) throws -> UpgradeTarget {
        if s.lowercased() == "head" { return .head }
        if s.hasPrefix("+") {
            guard let n = Int(s.dropFirst()), n > 0 else { throw ProjectError("\(s): expected +N with N a positive number") }
            return .relative(n)
        }
        if s.hasPrefix("-") { throw ProjectError("\(s): upgrade goes forward; use `strata downgrade \(s)`") }
        return .revision(s)
    }

    public static func parseDowngradeTarget(_ s: String) throws -> DowngradeTarget {
        if s.lowercased() == "base" { return .base }
        if s.hasPrefix("-") {
            guard let n = Int(s.dropFirst()), n > 0 else { throw ProjectError("\(s): expected -N with N a positive number") }
            return .relative(n)
        }
        if s.hasPrefix("+") || s.lowercased() == "head" { throw ProjectError("\(s): downgrade goes back; use `strata upgrade \(s)`") }
        return .revision(s)
    }

    /// Plans an upgrade; nil when the database is already there.
    public func planUpgrade(_ db: TargetDatabase, to target: UpgradeTarget, context: MigrationContext) throws -> MigrationPlan? {
        let source = try source(for: db)
        let current = try db.currentRevision()
        if let current, !(try source.contains(current)) { throw unknownRevision(current, db) }
        let goal: String
        switch target {
        case .head:
            guard let h = try log.head() else {
                throw ProjectError("the log is empty: there is no head to upgrade to; run `strata revision --autogenerate -m MESSAGE` first")
            }
            goal = h
        case .revision(let r):
            guard let id = try resolveRevision(r, source: source) else {
                throw ProjectError("upgrade goes forward; to go to base use `strata downgrade base`")
            }
            goal = id
        case .relative(let n):
            guard let h = try log.head() else { throw ProjectError("the log is empty: there is nothing to upgrade to") }
            var chain: [String] = []
            var cursor: String? = h
            while let c = cursor, c != current {
                let e = try source.event(c)
                guard e.parents.count <= 1 else { throw ProjectError("+\(n) would cross a merge; name the revision instead") }
                chain.append(c)
                cursor = e.parents.first
            }
            guard cursor == current else { throw ProjectError("the database is not on the path to head; name a revision instead of +\(n)") }
            guard n <= chain.count else {
                throw ProjectError("cannot upgrade \(n) revisions: the database is \(chain.count) below head; use `strata upgrade head`")
            }
            goal = chain[chain.count - n]
        }
        if goal == current { return nil }
        if let current {
            if try source.isAncestor(goal, of: current) {
                throw ProjectError("the database is at \(current.prefix(12)), past \(goal.prefix(12)); to go back use `strata downgrade \(goal.prefix(12))`")
            }
            guard try source.isAncestor(current, of: goal) else {
                // A revision only the database's records hold (say, a local
                // revision that `sync` rebased): go back to the common
                // ancestor and forward again, in one transaction.
                if !(try log.contains(current)) { return try planMove(db, to: goal, context: context) }
                throw ProjectError("the database is at \(current.prefix(12)), on a branch that does not lead to \(goal.prefix(12)); downgrade it to a common ancestor first, or merge the heads")
            }
        }
        let steps = try source.range(from: current, to: goal).map { MigrationStep($0, .up) }
        return try trustedPlan(start: try source.state(at: current), from: current, to: goal, steps: steps, context: context)
    }

    /// Plans a downgrade; nil when the database is already there.
    public func planDowngrade(_ db: TargetDatabase, to target: DowngradeTarget, context: MigrationContext) throws -> MigrationPlan? {
        let source = try source(for: db)
        guard let current = try db.currentRevision() else {
            if target == .base { return nil }
            throw ProjectError("the database is at base: there is nothing to downgrade")
        }
        guard try source.contains(current) else { throw unknownRevision(current, db) }
        let goal: String?
        switch target {
        case .base: goal = nil
        case .revision(let r): goal = try resolveRevision(r, source: source)
        case .relative(let n):
            var cursor: String? = current
            for step in 0..<n {
                guard let c = cursor else {
                    throw ProjectError("cannot downgrade \(n) revisions: the database is only \(step) above base; use `strata downgrade base`")
                }
                cursor = try source.event(c).parents.first
            }
            goal = cursor
        }
        if goal == current { return nil }
        if let goal, !(try source.isAncestor(goal, of: current)) {
            throw ProjectError("\(goal.prefix(12)) is not behind the database's revision \(current.prefix(12)); use `strata upgrade` to go forward")
        }
        let steps = try source.range(from: goal, to: current).reversed().map { MigrationStep($0, .down) }
        return try trustedPlan(start: try source.state(at: current), from: current, to: goal, steps: steps, context: context)
    }

    /// Plans the way from the database's revision to `goal`, whichever
    /// direction: down to their newest common ancestor, then up. Nil when
    /// the database is there already.
    public func planMove(_ db: TargetDatabase, to goal: String?, context: MigrationContext) throws -> MigrationPlan? {
        let source = try source(for: db)
        let current = try db.currentRevision()
        if current == goal { return nil }
        if let current, !(try source.contains(current)) { throw unknownRevision(current, db) }
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
        return try trustedPlan(start: try source.state(at: current), from: current, to: goal, steps: steps, context: context)
    }

    func resolveRevision(_ r: String, source: CombinedSource) throws -> String? {
        do { return try log.resolve(r) } catch let e as LogError where e.kind == .notFound {
            let matches = try source.database?.storedEventIDs(withPrefix: r.lowercased()) ?? []
            if r.count >= 4 && matches.count == 1 { return matches[0] }
            throw e
        }
    }

    func unknownRevision(_ id: String, _ db: TargetDatabase) -> MigrationError { .unknownRevision(db.path, id) }

    /// The events from base to `id`, for stamping and materializing.
    public func lineage(of id: String?) throws -> [Event] {
        guard let id else { return [] }
        return try log.range(from: nil, to: id)
    }
}
