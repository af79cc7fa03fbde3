import Foundation
import StrataCore
import StrataSQLite

/// Which events `strata lint` looks at.
package enum LintSelection: Sendable, Equatable {
    /// One revision (head by default).
    case revision(String)
    /// What comes after A up to B (`A..B`).
    case range(from: String, to: String)
    /// What `upgrade head` would run on each configured database.
    case pending
}

package struct LintReport: Sendable {
    /// Findings that count, and those the events' authors accepted.
    package var findings: [Finding] = []
    package var accepted: [Finding] = []
    /// Databases whose rows could not be counted, and why.
    package var uncounted: [(database: String, reason: String)] = []
    package var events: Int = 0

    package var errors: Int { findings.filter { $0.level == .error }.count }
}

/// `strata lint`: findings before anything runs. Static ones come from the
/// events (StrataCore's `Lint`); data-dependent ones from a dry run of the
/// same plan an upgrade would run on each configured database, in a
/// transaction that is rolled back.
extension Project {
    package func lint(_ selection: LintSelection, databases paths: [String], ignoring: Set<String>) throws -> LintReport {
        var report = LintReport()
        let events: [Event]
        switch selection {
        case .revision(let r):
            guard let id = try log.resolve(r) else { throw ProjectError("base has no events to lint; name a revision") }
            events = [try log.event(id)]
        case let .range(a, b):
            let from = try log.resolve(a)
            guard let to = try log.resolve(b) else { throw ProjectError("\(a)..\(b) ends at base: nothing to lint") }
            if let from, !(try log.isAncestor(from, of: to)) { throw ProjectError("\(a) is not an ancestor of \(b): name a range along one history") }
            events = try log.range(from: from, to: to)
        case .pending:
            events = try log.head().map { pendingEvents(paths, to: $0) } ?? []
        }
        report.events = events.count
        for (e, found) in zip(events, try staticFindings(of: events)) {
            for f in found where !ignoring.contains(f.code) {
                if e.accepted.contains(f.code) { report.accepted.append(f) } else { report.findings.append(f) }
            }
        }
        // Rows: each database that the selection starts from (or, for
        // --pending, each one with pending events) runs the plan dry.
        guard events.contains(where: { e in e.ops.enumerated().contains { !DataChecks.checks(for: $0.element, in: .empty).isEmpty || Self.mayNeedRows($0.element) } }) else {
            return report
        }
        let byID = Dictionary(events.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for path in paths {
            guard FileManager.default.fileExists(atPath: path) else { continue }
            do {
                let db = try TargetDatabase(path: path, create: false)
                let current = try db.currentRevision()
                let goal: String
                switch selection {
                case .pending:
                    guard let head = try log.head(), current != head else { continue }
                    goal = head
                default:
                    guard let first = events.first, current == first.parents.first else {
                        report.uncounted.append((path, "it is at \(current.map { String($0.prefix(12)) } ?? "base"), not where the events start"))
                        continue
                    }
                    goal = events.last!.id
                }
                guard let plan = try plan(.upgrade(.revision(goal)), for: db, context: migrationContext) else { continue }
                let (failed, errors) = try db.dryRun(plan)
                for c in failed where !ignoring.contains(c.check.code) {
                    let e = byID[c.event]
                    let f = Finding(code: c.check.code, level: Lint.level(of: c.check.code), event: c.event, op: c.op ?? -1,
                                    message: c.check.describe(c.rows), database: path)
                    if e?.accepted.contains(f.code) == true { report.accepted.append(f) } else { report.findings.append(f) }
                }
                for error in errors { report.uncounted.append((path, "a statement of the dry run failed: \(error)")) }
            } catch {
                report.uncounted.append((path, "\(error)"))
            }
        }
        return report
    }

    /// An op whose check depends on the state it runs in (the schema
    /// `.empty` above does not know its table).
    static func mayNeedRows(_ op: Op) -> Bool {
        switch op {
        case .alterColumn, .addColumn, .alterConstraints: return true
        case .createIndex(let i): return i.unique
        default: return false
        }
    }

    /// The static findings of a new event, for `revision` to print.
    package func findings(of event: Event) throws -> [Finding] {
        try staticFindings(of: [event])[0]
    }

    /// The static findings of each event, in one pass: an event whose first
    /// parent is the event before it starts from that event's state instead
    /// of folding the log again (which made upgrade's findings quadratic in
    /// the number of pending events). Earlier data steps (BC106) are read
    /// only for an event that renames or drops something, and only the
    /// events that hold one: neither grows with the log.
    func staticFindings(of events: [Event]) throws -> [[Finding]] {
        var last: (id: String, state: Schema)?
        var withDataSteps: [String]?
        return try events.map { e in
            let parent = e.parents.first
            let before = try parent.flatMap { $0 == last?.id ? last?.state : nil } ?? log.state(at: parent)
            let found = try Lint.findings(of: e, before: before, earlierData: {
                guard let parent else { return [] }
                if withDataSteps == nil { withDataSteps = try log.idsWithDataSteps() }
                let height = try log.height(parent)
                let candidates = try withDataSteps!.filter { try log.height($0) <= height }
                guard !candidates.isEmpty else { return [] }
                let ancestors = try log.ancestors(of: parent)
                return Lint.dataSteps(of: try candidates.filter(ancestors.contains).map { try log.event($0) })
            })
            // A merge's state is not its first parent's plus its ops.
            last = e.parents.count > 1 ? nil : (e.id, try before.applying(e.ops))
            return found
        }
    }
}

extension Project {
    /// The static findings of the events `upgrade` is about to run on these
    /// databases (each from its own revision), for it to print first.
    /// Best effort: a database it cannot read adds nothing (the run will say why).
    package func pendingFindings(_ paths: [String], to target: UpgradeTarget) -> [Finding] {
        guard let goal: String = try? {
            switch target {
            case .head: return try log.head()
            case .revision(let r): return try log.resolve(r)
            case .relative: return nil
            }
        }() else { return [] }
        let events = pendingEvents(paths, to: goal)
        guard let found = try? staticFindings(of: events) else { return [] }
        return zip(events, found).flatMap { e, found in found.filter { !e.accepted.contains($0.code) } }
    }
}

extension Project {
    /// The events `upgrade` would run to bring these databases to `goal`,
    /// each from its own revision (a file not there yet from base), each
    /// event once. A database off the way to `goal`, or unreadable, adds
    /// nothing: the run itself says why.
    func pendingEvents(_ paths: [String], to goal: String) -> [Event] {
        var seen = Set<String>()
        var events: [Event] = []
        for path in paths {
            let current = FileManager.default.fileExists(atPath: path) ? (try? TargetDatabase(path: path, create: false).currentRevision()) ?? nil : nil
            if let current, (try? log.contains(current) && log.isAncestor(current, of: goal)) != true { continue }
            guard let range = try? log.range(from: current, to: goal) else { continue }
            for e in range where seen.insert(e.id).inserted { events.append(e) }
        }
        return events
    }
}
