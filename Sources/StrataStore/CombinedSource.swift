import StrataCore
import StrataSQLite

/// The log, plus events only a database's own records hold, read by id
/// when needed (never all at once: a database may hold thousands).
public final class CombinedSource: EventSource {
    public let log: EventLog
    public let database: TargetDatabase?
    private var extra: [String: (event: Event, height: Int)] = [:]

    public init(log: EventLog, database: TargetDatabase?) {
        self.log = log
        self.database = database
    }

    public func contains(_ id: String) throws -> Bool {
        if try log.contains(id) { return true }
        return try stored(id) != nil
    }

    private func stored(_ id: String) throws -> (event: Event, height: Int)? {
        if let hit = extra[id] { return hit }
        guard let e = try database?.storedEvent(id) else { return nil }
        var h = 0
        for p in e.parents {
            if try log.contains(p) { h = max(h, try log.height(p)) } else if let sp = try stored(p) { h = max(h, sp.height) } else {
                throw HistoryError("event \(id.prefix(12)) in the database's records names a parent \(p.prefix(12)) that nothing holds")
            }
        }
        extra[id] = (e, h + 1)
        return extra[id]
    }

    public func event(_ id: String) throws -> Event {
        if try log.contains(id) { return try log.event(id) }
        guard let s = try stored(id) else { throw HistoryError("unknown revision \(id.prefix(12))") }
        return s.event
    }

    public func height(_ id: String) throws -> Int {
        if try log.contains(id) { return try log.height(id) }
        guard let s = try stored(id) else { throw HistoryError("unknown revision \(id.prefix(12))") }
        return s.height
    }

    public func state(at id: String?) throws -> Schema {
        guard let id else { return .empty }
        if try log.contains(id) { return try log.state(at: id) }
        // From the nearest ancestor the log holds (its snapshots apply), then the database's copies.
        var s = Schema.empty
        var base: String?
        var cursor: String? = id
        while let c = cursor, base == nil {
            if try log.contains(c) { base = c } else { cursor = try event(c).parents.first }
        }
        if let base { s = try log.state(at: base) }
        for e in try range(from: base, to: id) { try s.apply(e.ops) }
        return s
    }
}
