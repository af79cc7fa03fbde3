import StrataCore

/// A log in memory: the second implementation of `EventLog` and `SyncLog`,
/// run through the same tests as the SQLite one, and the log of the
/// syncer's unit tests.
package final class MemoryEventLog: SyncLog {
    private var graph = EventGraph()
    private var snapshots: [String: Schema] = [:]
    private var metadata: [String: String] = [:]
    private var pushed: [String: (by: String, at: String)] = [:]
    private var outbox: [(seq: Int64, kind: String, body: String)] = []
    private var outboxSeq: Int64 = 0
    package let snapshotInterval: Int
    /// The state after the last event appended: the next append on it (a
    /// registry's log grows on its head) starts from here, not from a snapshot.
    private var lastState: (String, Schema)?

    package init(snapshotInterval: Int = 0) { self.snapshotInterval = snapshotInterval }

    /// An independent log with the same events, snapshots and bookkeeping
    /// (copy on write: cheap until one of the two changes). What a reader
    /// holding the original keeps seeing does not change.
    package func copy() -> MemoryEventLog {
        let c = MemoryEventLog(snapshotInterval: snapshotInterval)
        c.graph = graph
        c.snapshots = snapshots
        c.metadata = metadata
        c.pushed = pushed
        c.outbox = outbox
        c.outboxSeq = outboxSeq
        c.lastState = lastState
        return c
    }

    package var location: String { "(memory)" }

    // MARK: - Events

    package func count() throws -> Int { graph.order.count }
    package func contains(_ id: String) throws -> Bool { graph.events[id] != nil }
    package func heads() throws -> [String] { graph.heads }
    package func allEvents() throws -> [Event] { graph.order.map { graph.events[$0]! } }
    package func ids(withPrefix prefix: String) throws -> [String] { graph.order.filter { $0.hasPrefix(prefix) }.sorted() }
    package func event(_ id: String) throws -> Event {
        guard let e = graph.events[id] else { throw LogError(.notFound, "unknown revision \(id.prefix(12)): it is not in the local log") }
        return e
    }
    package func height(_ id: String) throws -> Int { try graph.height(id) }
    package func snapshot(at id: String) throws -> Schema? { snapshots[id] }
    package func saveSnapshot(_ schema: Schema, at id: String) throws { snapshots[id] = schema }
    package func idsWithDataSteps() throws -> [String] {
        graph.order.filter { id in graph.events[id]!.ops.contains { if case .exec = $0 { return true } else { return false } } }
    }

    package func append(_ events: [Event], expectedHeads: [String]?) throws {
        if let expectedHeads, Set(graph.heads) != Set(expectedHeads) {
            throw LogError(.conflict, "the log changed while this command ran; run the command again")
        }
        var validator = AppendValidator(log: self)
        validator.expect(events)
        var staged = graph
        var newSnapshots: [String: Schema] = [:]
        for e in events where staged.events[e.id] == nil {
            let state = try validator.check(e, cachedParentState: lastState)
            try staged.add(e)
            if snapshotInterval > 0, try staged.height(e.id) % snapshotInterval == 0 { newSnapshots[e.id] = state }
        }
        graph = staged
        snapshots.merge(newSnapshots) { $1 }
        if let last = validator.last { lastState = (last.id, last.state) }
    }

    // MARK: - Sync bookkeeping

    package func meta(_ key: String) throws -> String? { metadata[key] }
    package func setMeta(_ key: String, _ value: String?) throws { metadata[key] = value }

    package func unpublished() throws -> [Event] {
        var found = Set<String>()
        var stack = graph.heads
        while let id = stack.popLast() {
            guard pushed[id] == nil, found.insert(id).inserted, let e = graph.events[id] else { continue }
            stack += e.parents
        }
        return graph.order.filter(found.contains).map { graph.events[$0]! }
    }

    package func replaceUnpublished(_ ids: [String], with events: [Event]) throws {
        let doomed = Set(ids)
        for id in ids {
            if pushed[id] != nil { throw LogError(.invalid, "event \(id.prefix(12)) was pushed to the registry and can never be rewritten") }
            if let child = graph.order.first(where: { !doomed.contains($0) && graph.events[$0]!.parents.contains(id) }) {
                throw LogError(.invalid, "event \(child.prefix(12)) builds on an event being replaced; replace it too")
            }
        }
        let before = (graph, snapshots)
        graph = EventGraph(graph.order.filter { !doomed.contains($0) }.map { graph.events[$0]! })
        snapshots = snapshots.filter { !doomed.contains($0.key) }
        do { try append(events, expectedHeads: nil) } catch {
            (graph, snapshots) = before
            throw error
        }
    }

    package func markPushed(_ receipts: [PushReceipt]) throws {
        for r in receipts { pushed[r.id] = (r.by, r.at) }
    }

    package func pushedInfo() throws -> [String: (by: String, at: String)] { pushed }

    package func appendPulled(_ events: [Event], receipts: [PushReceipt]) throws {
        try append(events, expectedHeads: nil)
        try markPushed(receipts)
    }

    package func enqueue(kind: String, body: String) throws {
        outboxSeq += 1
        outbox.append((outboxSeq, kind, body))
    }

    package func queued() throws -> [(seq: Int64, kind: String, body: String)] { outbox }

    package func dequeue(_ seq: Int64) throws { outbox.removeAll { $0.seq == seq } }

    /// Events in memory cannot be changed behind the log's back; what is
    /// left to check is that every id is its event's hash and every event folds.
    package func verify() throws -> [LogProblem] {
        var problems: [LogProblem] = []
        for (n, id) in graph.order.enumerated() {
            let e = graph.events[id]!
            let recomputed = e.moved(to: e.parents)
            if recomputed.id != id { problems.append(LogProblem(seq: Int64(n + 1), id: id, reason: "its id does not match its contents")) }
            do { _ = try state(at: id) } catch {
                problems.append(LogProblem(seq: Int64(n + 1), id: id, reason: "its ops do not apply: \(error)"))
            }
        }
        return problems
    }
}
