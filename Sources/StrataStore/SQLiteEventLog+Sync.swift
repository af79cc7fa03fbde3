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

    /// Events the registry has not acknowledged, in append order.
    public func unpublished() throws -> [Event] {
        try connection.query("""
            SELECT e.body FROM events e LEFT JOIN remote r ON r.project = e.project AND r.id = e.id
            WHERE e.project = ? AND r.id IS NULL ORDER BY e.seq
            """, [.text(project)]).map { try Event(canonical: $0[0].bytes ?? []) }
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
