import StrataCore
import StrataSQLite
import StrataLog
import StrataWire

/// A project's log as the pages read it: every event in a log in memory
/// (parents, states at any revision, ancestry), with who pushed each one.
/// Built from the store's pages of events; `PageCache` keeps one per
/// project until its head moves.
final class ProjectView: @unchecked Sendable {
    let name: String
    let log: MemoryEventLog
    let pushed: [String: (by: String, at: String)]
    /// Oldest first.
    let order: [String]
    let head: String?

    convenience init(name: String, events: [PushedEvent]) throws {
        try self.init(name: name, log: MemoryEventLog(snapshotInterval: 256), pushed: [:], order: [], adding: events)
    }

    /// `log` (a log no reader holds) with `events` appended after `order`.
    private init(name: String, log: MemoryEventLog, pushed: [String: (by: String, at: String)], order: [String], adding events: [PushedEvent]) throws {
        self.name = name
        self.log = log
        try log.append(events.map(\.event), expectedHeads: nil)
        var pushed = pushed
        for e in events { pushed[e.event.id] = (e.pushedBy, e.pushedAt) }
        self.pushed = pushed
        self.order = order + events.map(\.event.id)
        head = self.order.last
    }

    /// This view with the events appended since (the registry's log is one
    /// line: they come after its head). This view, which other requests may
    /// be reading, does not change; the new one shares its storage until it
    /// appends.
    func extended(with events: [PushedEvent]) throws -> ProjectView {
        try ProjectView(name: name, log: log.copy(), pushed: pushed, order: order, adding: events)
    }

    /// A revision named in a URL: `head`, `base`, or 4+ hex digits of an id.
    func resolve(_ revision: String) throws -> String? {
        switch revision.lowercased() {
        case "head": return head
        case "base": return nil
        default:
            let matches = try log.ids(withPrefix: revision.lowercased())
            guard revision.count >= 4, matches.count == 1 else {
                throw RegistryError.notFound(matches.count > 1 ? "\(revision) is ambiguous in project \(name); give more digits"
                                                               : "no revision \(revision) in project \(name)")
            }
            return matches[0]
        }
    }

    func state(at id: String?) throws -> Schema { try log.state(at: id) }

    func stateBefore(_ e: Event) throws -> Schema { try log.stateBefore(e) { try log.state(at: $0) } }

    /// The event with its inverse and the SQL both ways, as `strata show` prints them.
    func details(of id: String) throws -> (event: Event, inverse: [Op], up: [String], down: [String]) {
        let e = try log.event(id)
        let before = try stateBefore(e)
        let after = try before.applying(e.ops)
        return (e, e.ops.inverted, try Planner.statements(for: e.ops, in: before).map(\.sql),
                try Planner.statements(for: e.ops.inverted, in: after).map(\.sql))
    }

    /// Where a database stands against its environment's target, in words,
    /// and whether a person should look at it.
    func standing(of database: FleetDatabase) -> (words: String, kind: String) {
        let revision = database.report.revision
        if database.report.drifted == true { return ("drifted: its schema is not what its revision says", "bad") }
        let known = revision == "base" || ((try? log.contains(revision)) ?? false)
        guard known else { return ("at an unpublished revision (not on the registry)", "bad") }
        guard let target = database.target else { return ("no target (no environment)", "none") }
        if target == revision { return ("at target", "ok") }
        let from = revision == "base" ? 0 : ((try? log.height(revision)) ?? 0) + 1
        let to = ((try? log.height(target)) ?? 0) + 1
        if revision == "base" || ((try? log.isAncestor(revision, of: target)) ?? false) {
            return ("behind target by \(to - from) event\(to - from == 1 ? "" : "s")", "warn")
        }
        if (try? log.isAncestor(target, of: revision)) ?? false {
            return ("ahead of target by \(from - to) event\(from - to == 1 ? "" : "s")", "warn")
        }
        return ("diverged from target", "bad")
    }
}

/// One `ProjectView` per project, rebuilt when the store's head or count
/// changes (another registry process may have appended).
actor PageCache {
    private var views: [String: (head: String?, count: Int, view: ProjectView)] = [:]
    /// How many times a project's whole log was read (the first view, or when
    /// the cached one could not be extended).
    private(set) var wholeReads = 0

    func view(of project: String, in store: any RegistryStore) async throws -> ProjectView {
        let head = try await store.head(of: project), count = try await store.count(of: project)
        if let cached = views[project], cached.head == head, cached.count == count { return cached.view }
        // Only what was appended since, when the cached view is a prefix of the log.
        if let cached = views[project], let since = cached.view.head, cached.count < count,
           let new = try? await ProjectDump.read(project, eventsOnlyFrom: store, after: since),
           let view = try? cached.view.extended(with: new), view.head == head, view.order.count == count {
            views[project] = (view.head, count, view)
            return view
        }
        let dump = try await ProjectDump.read(project, eventsOnlyFrom: store)
        wholeReads += 1
        let view = try ProjectView(name: project, events: dump)
        views[project] = (view.head, dump.count, view)
        return view
    }
}
