import StrataCore

/// A log in memory: the second implementation of `EventLog`, run through the
/// same tests as the SQLite one.
public final class MemoryEventLog: EventLog {
    private var graph = EventGraph()
    private var snapshots: [String: Schema] = [:]
    public let snapshotInterval: Int

    public init(snapshotInterval: Int = 0) { self.snapshotInterval = snapshotInterval }

    public func count() throws -> Int { graph.order.count }
    public func contains(_ id: String) throws -> Bool { graph.events[id] != nil }
    public func heads() throws -> [String] { graph.heads }
    public func allEvents() throws -> [Event] { graph.order.map { graph.events[$0]! } }
    public func ids(withPrefix prefix: String) throws -> [String] { graph.order.filter { $0.hasPrefix(prefix) }.sorted() }
    public func event(_ id: String) throws -> Event {
        guard let e = graph.events[id] else { throw LogError(.notFound, "unknown revision \(id.prefix(12)): it is not in the local log") }
        return e
    }
    public func height(_ id: String) throws -> Int { try graph.height(id) }
    public func snapshot(at id: String) throws -> Schema? { snapshots[id] }
    public func saveSnapshot(_ schema: Schema, at id: String) throws { snapshots[id] = schema }

    public func append(_ events: [Event], expectedHeads: [String]?) throws {
        if let expectedHeads, Set(graph.heads) != Set(expectedHeads) {
            throw LogError(.conflict, "the log changed while this command ran; run the command again")
        }
        var validator = AppendValidator(log: self)
        var staged = graph
        for e in events where staged.events[e.id] == nil {
            let state = try validator.check(e, cachedParentState: nil)
            try staged.add(e)
            if snapshotInterval > 0, try staged.height(e.id) % snapshotInterval == 0 { snapshots[e.id] = state }
        }
        graph = staged
    }
}
