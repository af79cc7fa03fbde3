import StrataCore
import StrataSQLite

/// A history, plus events only a database's own records hold, read by id
/// when needed (never all at once: a database may hold thousands). This
/// is how a database written by a newer history goes back: the events the
/// history lacks are the database's own copies.
package final class CombinedSource: EventSource {
    package let history: any HistoryStore
    package let database: TargetDatabase?
    private var extra: [String: (event: Event, height: Int)] = [:]

    package init(history: any HistoryStore, database: TargetDatabase?) {
        self.history = history
        self.database = database
    }

    package func contains(_ id: String) throws -> Bool {
        if try history.contains(id) { return true }
        return try stored(id) != nil
    }

    private func stored(_ id: String) throws -> (event: Event, height: Int)? {
        if let hit = extra[id] { return hit }
        guard let e = try database?.storedEvent(id) else { return nil }
        var h = 0
        for p in e.parents {
            if try history.contains(p) { h = max(h, try history.height(p)) } else if let sp = try stored(p) { h = max(h, sp.height) } else {
                throw HistoryError("event \(id.prefix(12)) in the database's records names a parent \(p.prefix(12)) that nothing holds")
            }
        }
        extra[id] = (e, h + 1)
        return extra[id]
    }

    package func event(_ id: String) throws -> Event {
        if try history.contains(id) { return try history.event(id) }
        guard let s = try stored(id) else { throw HistoryError("unknown revision \(id.prefix(12))") }
        return s.event
    }

    package func height(_ id: String) throws -> Int {
        if try history.contains(id) { return try history.height(id) }
        guard let s = try stored(id) else { throw HistoryError("unknown revision \(id.prefix(12))") }
        return s.height
    }

    package func state(at id: String?) throws -> Schema {
        guard let id else { return .empty }
        if try history.contains(id) { return try history.state(at: id) }
        // From the nearest ancestor the history holds (its snapshots apply), then the database's copies.
        var s = Schema.empty
        var base: String?
        var cursor: String? = id
        while let c = cursor, base == nil {
            if try history.contains(c) { base = c } else { cursor = try event(c).parents.first }
        }
        if let base { s = try history.state(at: base) }
        for e in try range(from: base, to: id) { try s.apply(e.ops) }
        return s
    }
}
