import StrataCore
import StrataSQLite

extension SQLiteEventLog {
    // MARK: - Settings kept with the log

    package func meta(_ key: String) throws -> String? {
        try connection.scalar("SELECT value FROM meta WHERE key = ?", [.text("\(project)/\(key)")])?.string
    }

    package func setMeta(_ key: String, _ value: String?) throws {
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
    package func unpublished() throws -> [Event] {
        var found: [(seq: Int64, event: Event)] = []
        var seen = Set<String>()
        var stack = try heads()
        while let id = stack.popLast() {
            guard seen.insert(id).inserted,
                  try connection.scalar("SELECT 1 FROM remote WHERE project = ? AND id = ?", [.text(project), .text(id)]) == nil,
                  let row = try connection.query("SELECT e.seq, \(Self.signedColumns) FROM events e \(Self.signedJoin) WHERE e.project = ? AND e.id = ?",
                                                 [.text(project), .text(id)]).first
            else { continue }
            let e = try Self.decode(row[1], signedBy: row[2], signature: row[3])
            found.append((row[0].int ?? 0, e))
            stack += e.parents
        }
        return found.sorted { $0.seq < $1.seq }.map(\.event)
    }

    /// Replaces unpublished events by new ones (their rebased versions) in one
    /// transaction. Published events are never rewritten: naming one is an error.
    package func replaceUnpublished(_ ids: [String], with events: [Event]) throws {
        let project = Value.text(self.project)
        let doomed = Set(ids)
        for id in ids {
            if try connection.scalar("SELECT 1 FROM remote WHERE project = ? AND id = ?", [project, .text(id)]) != nil {
                throw LogError(.invalid, "event \(id.prefix(12)) was pushed to the registry and can never be rewritten")
            }
            for row in try connection.query("SELECT child FROM edges WHERE project = ? AND parent = ?", [project, .text(id)]) {
                if let child = row[0].string, !doomed.contains(child) {
                    throw LogError(.invalid, "event \(child.prefix(12)) builds on an event being replaced; replace it too")
                }
            }
        }
        // Point lookups through the edges: the cost grows with what is
        // replaced, not with the log.
        let remove: (Connection) throws -> Void = { db in
            var parents = Set<String>()
            for id in ids {
                for parent in try self.event(id).parents {
                    parents.insert(parent)
                    try db.query("DELETE FROM edges WHERE project = ? AND parent = ? AND child = ?", [project, .text(parent), .text(id)])
                }
                for table in ["events", "snapshots", "heads"] {
                    try db.query("DELETE FROM \(table) WHERE project = ? AND id = ?", [project, .text(id)])
                }
            }
            // Parents left with no child become heads again.
            for parent in parents.subtracting(doomed)
            where try db.scalar("SELECT 1 FROM edges WHERE project = ? AND parent = ? LIMIT 1", [project, .text(parent)]) == nil {
                try db.query("INSERT OR IGNORE INTO heads (project, id) VALUES (?, ?)", [project, .text(parent)])
            }
        }
        if events.isEmpty {
            try connection.transaction { try remove(connection) }
            forgetCachedState()
        } else {
            try append(events, expectedHeads: nil, before: remove)
        }
    }

    // MARK: - Outbox (reports made while the registry was unreachable)

    package func enqueue(kind: String, body: String) throws {
        try connection.query("INSERT INTO outbox (project, kind, body) VALUES (?, ?, ?)", [.text(project), .text(kind), .text(body)])
    }

    package func queued() throws -> [(seq: Int64, kind: String, body: String)] {
        try connection.query("SELECT seq, kind, body FROM outbox WHERE project = ? ORDER BY seq", [.text(project)]).map {
            ($0[0].int ?? 0, $0[1].string ?? "", $0[2].string ?? "")
        }
    }

    package func dequeue(_ seq: Int64) throws {
        try connection.query("DELETE FROM outbox WHERE seq = ?", [.int(seq)])
    }
}
