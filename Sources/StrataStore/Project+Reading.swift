import StrataLog
import StrataCore
import StrataSQLite
import Strata

/// One event as `history` and `blame` list it: with whether it is a head
/// and who pushed it, when it was acknowledged by the registry.
package struct HistoryEntry {
    package let event: Event
    package let isHead: Bool
    package let pushed: (by: String, at: String)?
    /// For `blame`: the ops of the event that touch the target.
    package let ops: [Op]
}

/// One event with what `show` prints: its inverse and the SQL both ways.
package struct EventDetails {
    package let event: Event
    package let inverse: [Op]
    package let upgradeSQL: [String]
    package let downgradeSQL: [String]
}

/// A database's real schema against the state at its recorded revision.
package struct Drift: Sendable {
    package let database: String
    package let revision: String?
    /// The changes that lead from the recorded schema to the real one; empty when they match.
    package let changes: [String]
    package var isClean: Bool { changes.isEmpty }
}

/// The outcome of `verify`: every id and link recomputed.
package struct LogVerification {
    package let location: String
    package let events: Int
    package let problems: [LogProblem]
}

/// Reading: history, schema at a revision, drift, verification. Nothing
/// here writes the log or a database.
extension Project {
    /// Events newest first, at most `limit`.
    package func history(limit: Int? = nil) throws -> [HistoryEntry] {
        let events = try log.allEvents().reversed().prefix(limit ?? Int.max)
        let heads = Set(try log.heads())
        let pushed = try log.pushedInfo()
        return events.map { HistoryEntry(event: $0, isHead: heads.contains($0.id), pushed: pushed[$0.id], ops: $0.ops) }
    }

    /// The log's heads, oldest first (more than one after concurrent work).
    package func headEvents() throws -> [Event] { try log.heads().map { try log.event($0) } }

    /// Which events in the history of head created and changed `target`
    /// (`TABLE` or `TABLE.COLUMN`), newest first, following renames.
    package func blame(_ target: String) throws -> [HistoryEntry] {
        let parts = target.split(separator: ".", maxSplits: 1).map(String.init)
        guard let head = try log.head() else { throw ProjectError("the log is empty: nothing to blame") }
        let entries = Blame.entries(table: parts.first ?? target, column: parts.count > 1 ? parts[1] : nil, in: try log.range(from: nil, to: head))
        guard !entries.isEmpty else { throw ProjectError("no event in the history of head touches \(target)") }
        let pushed = try log.pushedInfo()
        return entries.map { HistoryEntry(event: $0.event, isHead: $0.event.id == head, pushed: pushed[$0.event.id], ops: $0.ops) }
    }

    /// The state at a revision (`head`, `base` or an id prefix), from the log
    /// alone. An empty log's head is base: its schema is empty.
    package func schema(at revision: String) throws -> (id: String?, schema: Schema) {
        if revision.lowercased() == "head", try log.count() == 0 { return (nil, .empty) }
        let id = try log.resolve(revision)
        return (id, try log.state(at: id))
    }

    /// The state before an event's ops (for a merge: first parent plus the second branch).
    package func stateBefore(_ e: Event) throws -> Schema {
        try log.stateBefore(e) { try log.state(at: $0) }
    }

    /// One event with its inverse and the exact SQL each way, planned
    /// against the states before and after it.
    package func details(of revision: String) throws -> EventDetails {
        guard let id = try log.resolve(revision) else { throw ProjectError("base is not an event; name a revision") }
        let e = try log.event(id)
        let before = try stateBefore(e)
        let after = try before.applying(e.ops)
        return EventDetails(event: e, inverse: e.ops.inverted,
                            upgradeSQL: try Planner.statements(for: e.ops, in: before).map(\.sql),
                            downgradeSQL: try Planner.statements(for: e.ops.inverted, in: after).map(\.sql))
    }

    /// The revision each database is at (nil for base).
    package func currentRevisions(_ paths: [String]) throws -> [(database: String, revision: String?)] {
        try paths.map { ($0, try existingDatabase($0).currentRevision()) }
    }

    /// Drift: the database's real schema against the state at its recorded
    /// revision (from the log, or from the database's own copies of events).
    package func drift(of path: String) throws -> Drift {
        try drift(of: try existingDatabase(path))
    }

    /// What `exclude` names is managed by something else, on either side.
    func drift(of db: TargetDatabase) throws -> Drift {
        let found = try migrator.drift(of: db)
        return Drift(database: db.path, revision: found.revision, changes: found.changes)
    }

    /// Drift of each database, going on past one that cannot be read.
    package func drifts(_ paths: [String], options: RunOptions = RunOptions(),
                       each: @escaping (Result<Drift, DatabaseFailure>) -> Void) -> [DatabaseFailure] {
        run(paths, options: options, work: { project, path in
            do { return .success(try project.drift(of: path)) } catch {
                return .failure(DatabaseFailure(path, error))
            }
        }, each: each)
    }

    /// Where each database stands: its revision against head, drift, and
    /// the last time strata changed it.
    package func status(_ paths: [String], options: RunOptions = RunOptions(),
                       each: @escaping (Result<DatabaseStatus, DatabaseFailure>) -> Void) throws -> [DatabaseFailure] {
        let head = try log.head()
        return run(paths, options: options, work: { project, path in
            do { return .success(try project.status(of: path, head: head)) } catch {
                return .failure(DatabaseFailure(path, error))
            }
        }, each: each)
    }

    func status(of path: String, head: String?) throws -> DatabaseStatus {
        let db = try existingDatabase(path)
        let source = try source(for: db)
        let drift = try drift(of: db)
        let current = drift.revision
        var behind: Int?, ahead: Int?
        func leads(_ from: String?, to: String) throws -> Bool { try from.map { try source.isAncestor($0, of: to) } ?? true }
        if current == head {
            (behind, ahead) = (0, 0)
        } else if let head, try leads(current, to: head) {
            (behind, ahead) = (try source.range(from: current, to: head).count, 0)
        } else if let current, try leads(head, to: current) {
            (behind, ahead) = (0, try source.range(from: head, to: current).count)
        }
        return DatabaseStatus(database: path, revision: current, head: head, behind: behind, ahead: ahead, drift: drift.changes,
                              lastApplied: try db.lastApplied())
    }

    /// Recomputes every id and parent link of the log, and checks every
    /// signature against the event's canonical bytes (offline: the public
    /// key is beside the signature). With `requireSignatures`, an unsigned
    /// event is a problem too, except the ancestors of `since` (a history
    /// that started unsigned).
    package func verifyLog(requireSignatures: Bool = false, since: String? = nil) throws -> LogVerification {
        var problems = try log.verify()
        let exempt: Set<String>
        if let since {
            let id = try revisionID(since, purpose: "where signatures start")
            exempt = Set(try log.range(from: nil, to: id).map(\.id)).subtracting([id])
        } else {
            exempt = []
        }
        for (n, e) in try log.allEvents().enumerated() {
            if let signature = e.signature {
                if !signature.isValid(for: e) {
                    problems.append(LogProblem(seq: Int64(n + 1), id: e.id,
                                               reason: "its signature by \(signature.signedBy) does not verify: the event or its signature was changed after signing"))
                }
            } else if requireSignatures && !exempt.contains(e.id) {
                problems.append(LogProblem(seq: Int64(n + 1), id: e.id, reason: "it is not signed"))
            }
        }
        return LogVerification(location: log.location, events: try log.count(), problems: problems)
    }

    /// A revision named by `head` or an id prefix, as a full id; base is refused.
    package func revisionID(_ revision: String, purpose: String) throws -> String {
        guard let id = try log.resolve(revision) else { throw ProjectError("base cannot be \(purpose); name a revision") }
        return id
    }
}

/// Where one database stands (`strata status`).
package struct DatabaseStatus: Sendable {
    package let database: String
    package let revision: String?
    package let head: String?
    /// Events it lacks to reach head, and events it has that head lacks;
    /// both nil when it is on another branch.
    package let behind: Int?
    package let ahead: Int?
    /// The changes from the recorded schema to the real one; empty when clean.
    package let drift: [String]
    package let lastApplied: TargetDatabase.HistoryRow?
}
