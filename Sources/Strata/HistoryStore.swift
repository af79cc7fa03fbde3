import StrataCore
import Synchronization

/// Where a ``SchemaHistory`` reads its events: a bundle in memory, or the
/// CLI's local log (through an adapter in the store layer).
package protocol HistoryStore: AnyObject, EventSource {
    func contains(_ id: String) throws -> Bool
    /// The only head (nil when empty); an error when there are several.
    func head() throws -> String?
    /// A full id from `head`, `base` (nil), a full id, or a unique prefix.
    func resolve(_ revision: String) throws -> String?
    /// The schema at `id` (empty at base).
    func state(at id: String?) throws -> Schema
}

/// The events of a bundle, verified and held in memory. Read-only but for
/// its cache of folded states, which a lock guards: a history is shared
/// by the threads of an app.
final class BundleStore: HistoryStore, Sendable {
    let graph: EventGraph
    private let states = Mutex<[String: Schema]>([:])

    init(_ graph: EventGraph, headState: Schema?) {
        self.graph = graph
        if let head = graph.heads.first, let headState { states.withLock { $0[head] = headState } }
    }

    func event(_ id: String) throws -> Event { try graph.event(id) }
    func height(_ id: String) throws -> Int { try graph.height(id) }
    func contains(_ id: String) -> Bool { graph.events[id] != nil }

    func head() throws -> String? {
        guard graph.heads.count <= 1 else { throw MigratorError.severalHeads(graph.heads) }
        return graph.heads.first
    }

    func resolve(_ revision: String) throws -> String? {
        let r = revision.lowercased()
        if r == "head" { return try head() }
        if r == "base" { return nil }
        let matches = graph.order.filter { $0.hasPrefix(r) }
        guard r.count >= 4, r.allSatisfy(\.isHexDigit), matches.count == 1 else {
            throw MigratorError.unknownRevision(revision, candidates: r.count >= 4 ? matches.count : 0)
        }
        return matches[0]
    }

    /// Folded once per revision asked for; a bundle is an app's whole
    /// history, so the fold is as long as the history, once.
    func state(at id: String?) throws -> Schema {
        guard let id else { return .empty }
        if let hit = states.withLock({ $0[id] }) { return hit }
        var s = Schema.empty
        for e in try range(from: nil, to: id) { try s.apply(e.ops) }
        states.withLock { $0[id] = s }
        return s
    }
}
