import StrataCore
import StrataSQLite

/// What a run did.
public struct MigrationResult: Sendable {
    public enum Status: Hashable, Sendable {
        /// The database is at the target.
        case complete
        /// The budget ran out: the database is at ``MigrationResult/to``,
        /// consistent there, and these events are still to run (the next
        /// call runs them).
        case incomplete(remaining: [EventSummary])
        /// The database is past the target and was left there
        /// (``SchemaMigrator/AheadPolicy/leave``).
        case leftAhead
    }

    /// The revision the database was at (nil for base).
    public let from: String?
    /// The revision it is at now.
    public let to: String?
    /// The events run forward, in the order they ran.
    public let applied: [EventSummary]
    /// The events walked back (a database ahead of the history), newest first.
    public let undone: [EventSummary]
    public let status: Status
    /// What destructive steps kept in the database's trash
    /// (`2 rows of table draft`), for a log line.
    public let kept: [String]
}

/// Where a run is, for a progress bar.
public struct MigrationProgress: Sendable {
    /// The event just done.
    public let event: EventSummary
    /// Whether it was run forward (false: walked back).
    public let forward: Bool
    /// How many events of the run are done, this one included, and how many it has.
    public let done: Int
    public let total: Int
}

/// The SQL a run would execute.
public struct MigrationScript: Sendable {
    public let from: String?
    public let to: String?
    /// The whole run as a script for the sqlite3 shell: every statement,
    /// strata's bookkeeping included, in one transaction.
    public let script: String

    init(plan: MigrationPlan) {
        from = plan.fromRevision
        to = plan.toRevision
        script = plan.script
    }
}

/// How a database's schema differs from its recorded revision's.
public struct SchemaDrift: Hashable, Sendable {
    /// The revision the database records (nil for base).
    public let revision: String?
    /// One line per difference (`table user: column age is missing`).
    public let changes: [String]
}

extension SchemaMigrator {
    enum Way {
        case there(String?)
        case leftAhead(String?)
        case route(Route)
    }

    /// The full id `target` names (nil for base).
    func revision(of target: Target, source: CombinedSource) throws -> String? {
        switch target {
        case .head:
            guard let head = try history.store.head() else { throw MigratorError.emptyHistory }
            return head
        case .base: return nil
        case .revision(let r): return try resolveRevision(r, source: source)
        }
    }

    /// The events from base to `id`, each copied into the database a stamp writes.
    func lineage(of id: String?) throws -> [Event] { try id.map { try history.store.range(from: nil, to: $0) } ?? [] }

    /// The way from `db`'s revision to `target` under `ifAhead`.
    func way(for db: TargetDatabase, to target: Target, ifAhead: AheadPolicy) throws -> Way {
        let source = source(for: db)
        let current = try db.currentRevision()
        let goal = try revision(of: target, source: source)
        if goal == current { return .there(current) }
        if let current, try source.contains(current), try goal.map({ try source.isAncestor($0, of: current) }) ?? true {
            switch ifAhead {
            case .refuse: throw MigratorError.ahead(database: current, target: goal)
            case .leave: return .leftAhead(current)
            case .downgrade:
                guard let route = try routeMove(db, to: goal) else { return .there(current) }
                return .route(route)
            }
        }
        guard let goal, let route = try routeUpgrade(db, to: .revision(goal)) else { return .there(current) }
        return .route(route)
    }

    func migrate(_ db: TargetDatabase, to target: Target, ifAhead: AheadPolicy, appliedBy: String, node: String,
                 budget: Duration?, progress: ((MigrationProgress) -> Void)?) throws -> MigrationResult {
        let route: Route
        switch try way(for: db, to: target, ifAhead: ifAhead) {
        case .there(let at): return MigrationResult(from: at, to: at, applied: [], undone: [], status: .complete, kept: [])
        case .leftAhead(let at): return MigrationResult(from: at, to: at, applied: [], undone: [], status: .leftAhead, kept: [])
        case .route(let r): route = r
        }
        let context = context(appliedBy: appliedBy, node: node)
        let summaries = Dictionary(route.steps.map { ($0.event.id, EventSummary($0.event)) }, uniquingKeysWith: { a, _ in a })
        let forward = Dictionary(route.steps.map { ($0.event.id, $0.direction == .up) }, uniquingKeysWith: { a, _ in a })
        var done = 0
        let report: (String) -> Void = { id in
            done += 1
            guard let progress, let summary = summaries[id] else { return }
            progress(MigrationProgress(event: summary, forward: forward[id] ?? true, done: done, total: route.steps.count))
        }
        var kept: [String] = []
        func run(_ part: Route) throws {
            let planned = try plan(part, for: db, context: context)
            let trash = try db.apply(planned, checkingDrift: !ignoresDrift, eventDone: report)
            kept += trash.kept.map { "\($0.rows) row\($0.rows == 1 ? "" : "s") of \($0.what)" }
        }
        func result(at revision: String?, ran: ArraySlice<MigrationStep>, status: MigrationResult.Status) -> MigrationResult {
            MigrationResult(from: route.from, to: revision, applied: ran.filter { $0.direction == .up }.map { EventSummary($0.event) },
                            undone: ran.filter { $0.direction == .down }.map { EventSummary($0.event) }, status: status, kept: kept)
        }
        guard let budget else {
            try run(route)
            return result(at: route.to, ran: route.steps[...], status: .complete)
        }
        // One transaction per event where the history is a line (a
        // revision's state is then what the events before it made).
        let clock = ContinuousClock(), start = clock.now
        var from = route.from, first = 0
        for (end, revision) in route.boundaries() {
            try run(Route(from: from, to: revision, steps: Array(route.steps[first..<end]), source: route.source, meet: nil))
            (from, first) = (revision, end)
            if end < route.steps.count && clock.now - start >= budget {
                return result(at: revision, ran: route.steps[..<end], status: .incomplete(remaining: route.steps[end...].map { EventSummary($0.event) }))
            }
        }
        return result(at: route.to, ran: route.steps[...], status: .complete)
    }
}

extension Route {
    /// Where a run may commit and stop, as (steps done, revision): after
    /// each step whose revision's state is exactly what the steps so far
    /// made. On a line of events that is after every event; around a
    /// merge, only once past it. The last is the route's end.
    func boundaries() -> [(Int, String?)] {
        let downs = steps.prefix { $0.direction == .down }.count
        // The events walked back, oldest first from the meeting point, and those run forward from it.
        let below = steps[..<downs].reversed().map(\.event), above = steps[downs...].map(\.event)
        func line(_ events: [Event]) -> Int {
            var expected = meet.map { [$0] } ?? []
            for (n, e) in events.enumerated() {
                guard e.parents == expected else { return n }
                expected = [e.id]
            }
            return events.count
        }
        var cuts: [(Int, String?)] = []
        let belowLine = line(below)
        for k in 0..<downs {
            // Steps 0...k undone, below[0..<remaining] still applied.
            let remaining = downs - 1 - k
            if remaining <= belowLine { cuts.append((k + 1, remaining == 0 ? meet : below[remaining - 1].id)) }
        }
        let aboveLine = line(above)
        for k in above.indices where k < aboveLine || k == above.count - 1 {
            cuts.append((downs + k + 1, k == above.count - 1 ? to : above[k].id))
        }
        if cuts.last?.0 != steps.count { cuts.append((steps.count, to)) }
        return cuts
    }
}
