import StrataCore
import StrataSQLite

extension SQLiteEventLog {
    // MARK: - Settings kept with the log

    public func meta(_ key: String) throws -> String? {
        try connection.scalar("SELECT value FROM meta WHERE key = ?", [.text("\(project)/\(key)")])?.string
    }

    public func setMeta(_ key: String, _ value: String?) throws {
        if let value {
            try connection.query("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [.text("\(project)/\(key)"), .text(value)])
        } else {
            try connection.query("DELETE FROM meta WHERE key = ?", [.text("\(project)/\(key)")])
        }
    }

    // MARK: - Published and unpublished events

    /// Events the registry has not acknowledged, in append order. A pushed
    /// event's ancestors are all pushed (the registry needs parents first),
    /// so this walks back from the heads and stops at pushed events: the cost
    /// grows with what is unpublished, not with the log.
    public func unpublished() throws -> [Event] {
        var found: [(seq: Int64, event: Event)] = []
        var seen = Set<String>()
        var stack = try heads()
        while let id = stack.popLast() {
            guard seen.insert(id).inserted,
                  try connection.scalar("SELECT 1 FROM remote WHERE project = ? AND id = ?", [.text(project), .text(id)]) == nil,
                  let row = try connection.query("SELECT seq, body FROM events WHERE project = ? AND id = ?", [.text(project), .text(id)]).first
            else { continue }
            let e = try Event(canonical: row[1].bytes ?? [])
            found.append((row[0].int ?? 0, e))
            stack += e.parents
        }
        return found.sorted { $0.seq < $1.seq }.map(\.event)
    }

    /// Replaces unpublished events by new ones (their rebased versions) in one
    /// transaction. Published events are never rewritten: naming one is an error.
    public func replaceUnpublished(_ ids: [String], with events: [Event]) throws {
        let published = try pushedInfo()
        if let id = ids.first(where: { published[$0] != nil }) {
            throw LogError(.invalid, "event \(id.prefix(12)) was pushed to the registry and can never be rewritten")
        }
        let doomed = Set(ids)
        for e in try allEvents() where !doomed.contains(e.id) && e.parents.contains(where: doomed.contains) {
            throw LogError(.invalid, "event \(e.id.prefix(12)) builds on an event being replaced; replace it too")
        }
        try append(events, expectedHeads: nil, before: { db in
            for id in ids {
                try db.query("DELETE FROM events WHERE project = ? AND id = ?", [.text(self.project), .text(id)])
                try db.query("DELETE FROM snapshots WHERE project = ? AND id = ?", [.text(self.project), .text(id)])
                try db.query("DELETE FROM heads WHERE project = ? AND id = ?", [.text(self.project), .text(id)])
            }
            // Parents of removed events that have no other child become heads again.
            try db.query("""
                DELETE FROM heads WHERE project = ?1;
                """, [.text(self.project)])
            try db.query("""
                INSERT INTO heads (project, id) SELECT project, id FROM events e WHERE project = ?1
                AND NOT EXISTS (SELECT 1 FROM events c, json_each(json_extract(CAST(c.body AS TEXT), '$.parents')) p
                                WHERE c.project = e.project AND p.value = e.id)
                """, [.text(self.project)])
        })
    }

    // MARK: - Outbox (reports made while the registry was unreachable)

    public func enqueue(kind: String, body: String) throws {
        try connection.query("INSERT INTO outbox (project, kind, body) VALUES (?, ?, ?)", [.text(project), .text(kind), .text(body)])
    }

    public func queued() throws -> [(seq: Int64, kind: String, body: String)] {
        try connection.query("SELECT seq, kind, body FROM outbox WHERE project = ? ORDER BY seq", [.text(project)]).map {
            ($0[0].int ?? 0, $0[1].string ?? "", $0[2].string ?? "")
        }
    }

    public func dequeue(_ seq: Int64) throws {
        try connection.query("DELETE FROM outbox WHERE seq = ?", [.int(seq)])
    }
}
