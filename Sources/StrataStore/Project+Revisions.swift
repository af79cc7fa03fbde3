import Foundation
import StrataCore
import StrataSQLite

/// Two heads that cannot be merged: their branches change the same objects
/// in different ways.
package struct MergeConflict: Error, CustomStringConvertible, Sendable {
    package let heads: (String, String)
    package let reason: String

    package var description: String {
        "the heads \(heads.0.prefix(12)) and \(heads.1.prefix(12)) change the same objects in different ways (\(reason)), "
            + "so they cannot be merged; if one of them is unpushed local work, `strata sync --redo` redoes it on top of the "
            + "registry's head from the models file"
    }
}

extension MergeConflict: StrataError {
    package var exitStatus: ExitStatus { .conflict }
    package var errorCode: String { "merge.conflict" }
}

/// Writing events: autogenerate, hand-written DDL, merge, redo. Every new
/// event is proved on a scratch database before it is appended.
extension Project {
    package struct NewRevision {
        package let event: Event
        package let warnings: [String]
    }

    /// Diffs the models file against the state at head. Nil when they are equal.
    package func autogenerate(message: String, renames: RenameHints, now: Int64, purgeDropped: Bool = false, accepted: [String] = []) throws -> NewRevision? {
        var timings = Timings("revision --autogenerate")
        let head = try log.head()
        let before = try log.state(at: head)
        timings.lap("head state")
        let (ddl, source) = try modelsDDL()
        timings.lap("read models")
        let wanted = comparable(try Models.schema(fromDDL: ddl, source: source, timings: &timings), against: before, renames: renames)
        let ops = try before.diff(to: wanted, renames: renames)
        timings.lap("diff")
        if ops.isEmpty { return nil }
        defer { timings.lap("proof and append") }
        return try record(ops, message: message, parents: head.map { [$0] } ?? [], before: before, expected: wanted, now: now, purgeDropped: purgeDropped, accepted: accepted)
    }

    /// A hand-written change: the DDL runs on a copy of the head state and the
    /// difference becomes the event's ops. `ALTER TABLE ... RENAME` statements
    /// become renames (not drop and add).
    package func handwritten(message: String, sql: String, now: Int64, purgeDropped: Bool = false, accepted: [String] = []) throws -> NewRevision {
        let head = try log.head()
        let before = try log.state(at: head)
        let after = try Models.schema(applying: sql, to: before, source: "--sql")
        let ops = try before.diff(to: after, renames: try Project.renames(in: sql))
        guard !ops.isEmpty else { throw ProjectError("--sql changes nothing in the schema at head; nothing was recorded") }
        return try record(ops, message: message, parents: head.map { [$0] } ?? [], before: before, expected: after, now: now, purgeDropped: purgeDropped, accepted: accepted)
    }

    /// A data step: SQL that changes rows (`UPDATE`, `INSERT`, `DELETE`) and,
    /// optionally, the SQL that undoes it. Proved like any revision: both
    /// run on a scratch copy of the schema at head, which must not change.
    package func dataStep(message: String, forward: String, reverse: String?, now: Int64, accepted: [String] = []) throws -> NewRevision {
        let forward = SQL.trimmingTrailingSemicolons(forward)
        let reverse = reverse.map(SQL.trimmingTrailingSemicolons)
        guard !forward.isEmpty else { throw ProjectError("--exec needs the SQL of the data step") }
        guard reverse?.isEmpty != true else { throw ProjectError("--reverse is empty; leave it out for a step that cannot be undone") }
        let head = try log.head()
        let before = try log.state(at: head)
        return try record([.exec(forward: forward, reverse: reverse)], message: message, parents: head.map { [$0] } ?? [],
                          before: before, expected: before, now: now, accepted: accepted)
    }

    /// Renames written as `ALTER TABLE t RENAME [COLUMN] a TO b` / `ALTER TABLE a RENAME TO b`.
    static func renames(in sql: String) throws -> RenameHints {
        var hints = RenameHints()
        let tokens = try SQL.tokenize(sql)
        for statement in SQL.splitTopLevel(tokens[...], separator: ";") {
            let t = Array(statement)
            guard t.count >= 6, t[0].isKeyword("ALTER"), t[1].isKeyword("TABLE"), let table = t[2].identifier,
                  t[3].isKeyword("RENAME") else { continue }
            if t[4].isKeyword("TO"), let new = t[5].identifier {
                hints.tables.append((from: table, to: new))
            } else {
                let rest = t[4].isKeyword("COLUMN") ? Array(t[5...]) : Array(t[4...])
                if rest.count == 3, rest[1].isKeyword("TO"), let old = rest[0].identifier, let new = rest[2].identifier {
                    hints.columns.append((table: table, from: old, to: new))
                }
            }
        }
        return hints
    }

    func record(_ ops: [Op], message: String, parents: [String], before: Schema, expected: Schema, now: Int64,
                purgeDropped: Bool = false, accepted: [String] = []) throws -> NewRevision {
        let event = try provenEvent(ops, message: message, parents: parents, before: before, expected: expected, now: now,
                                    purgeDropped: purgeDropped, accepted: accepted)
        try log.append([event], expectedHeads: parents)
        return NewRevision(event: event, warnings: Project.warnings(for: event))
    }

    /// A new event by this node's author, proved before anything stores it.
    func provenEvent(_ ops: [Op], message: String, parents: [String], before: Schema, expected: Schema, now: Int64,
                     purgeDropped: Bool = false, accepted: [String] = []) throws -> Event {
        let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ProjectError("a revision needs a message: -m \"what changed\"") }
        let event = try signed(Event(parents: parents, author: config.author, timestamp: now, message: trimmed, ops: ops, purgeDropped: purgeDropped,
                                     accepted: accepted))
        // A foreign key SQLite accepts but every write then refuses: said in words, before the proof hits it.
        if let broken = expected.brokenForeignKeys().first(where: { !before.brokenForeignKeys().contains($0) }) {
            throw ProjectError("\(broken); nothing was recorded")
        }
        try Project.prove(event, before: before, expected: expected)
        return event
    }

    /// Proves an event before it is appended: in a scratch in-memory database
    /// holding `before`, its SQL must produce `expected`, and its inverse's
    /// SQL must bring `before` back.
    package static func prove(_ event: Event, before: Schema, expected: Schema) throws {
        let context = MigrationContext(appliedBy: "strata", node: "proof", now: event.timestamp, allowIrreversible: true)
        let db = try TargetDatabase(path: ":memory:")
        try db.create(before)
        try db.stamp(nil, events: [], context: context)
        let up = try Migrator.plan(start: before, from: nil, to: event.id, steps: [MigrationStep(event, .up)], context: context)
        guard up.finalState == expected else {
            throw ProjectError("internal error: the ops of the new revision do not reach the models schema; nothing was recorded")
        }
        let isDataStep = event.ops.contains { if case .exec = $0 { return true } else { return false } }
        do { try db.apply(up) } catch let MigrationError.event(_, _, reason, sql) where isDataStep {
            throw ProjectError("the data step does not run on the schema at head: \(reason)\(sql.map { " (in `\($0)`)" } ?? ""); nothing was recorded")
        }
        let reached = try db.schema()
        if isDataStep && reached != expected {
            let d = expected.differences(to: reached).joined(separator: "; ")
            throw ProjectError("the data step changes the schema (\(d)); it may change rows only: record schema changes with --sql or --autogenerate; nothing was recorded")
        }
        guard reached == expected else {
            let d = reached.differences(to: expected).joined(separator: "; ")
            throw ProjectError("internal error: the SQL planned for the new revision does not produce the models schema (missing: \(d)); nothing was recorded")
        }
        let down = try Migrator.plan(start: expected, from: event.id, to: nil, steps: [MigrationStep(event, .down)], context: context)
        do { try db.apply(down) } catch let MigrationError.event(_, _, reason, sql) where isDataStep {
            throw ProjectError("the reverse SQL does not run on the schema at head: \(reason)\(sql.map { " (in `\($0)`)" } ?? ""); nothing was recorded")
        }
        guard try db.schema() == before else {
            if isDataStep { throw ProjectError("the reverse SQL changes the schema; it may change rows only; nothing was recorded") }
            throw ProjectError("internal error: the inverse of the new revision does not restore the previous schema; nothing was recorded")
        }
        // Again with a row in every table, both ways: SQLite refuses some
        // statements only on a table that holds rows. A data step's SQL may
        // depend on the rows it finds, so its revision is proved empty only.
        guard !isDataStep else { return }
        let sample = try TargetDatabase(path: ":memory:")
        try sample.create(before)
        try sample.stamp(nil, events: [], context: context)
        try sample.insertSampleRows(before)
        if let failure = try sample.errorWithRows(running: [up, down]) {
            throw ProjectError("internal error: the SQL planned for the new revision fails on a table that holds rows: \(failure); "
                + "nothing was recorded; please report this with the models file")
        }
    }

    static func warnings(for event: Event) -> [String] {
        event.ops.compactMap { op in
            guard case let .dropColumn(table, column, _) = op, column.notNull,
                  column.defaultValue == nil || column.defaultValue == "NULL" else { return nil }
            return "\(table).\(column.name) is NOT NULL without a default: a downgrade of this revision brings its values back from what the upgrade keeps "
                + "in each database (`strata trash`); rows added after the upgrade need `downgrade --fill VALUE`"
        }
    }

    /// Joins two heads with a merge event, after checking that the branches
    /// commute (applying them in either order gives the same schema).
    package func merge(message: String, now: Int64) throws -> Event {
        let heads = try log.heads()
        guard heads.count >= 2 else { throw ProjectError("there is nothing to merge: the log has \(heads.count) head") }
        guard heads.count == 2 else { throw ProjectError("the log has \(heads.count) heads; strata merges two at a time: name them in `strata heads`") }
        let (a, b) = (heads[0], heads[1])
        let viaA: Schema, viaB: Schema
        do {
            viaA = try log.range(from: a, to: b).reduce(try log.state(at: a)) { try $0.applying($1.ops) }
            viaB = try log.range(from: b, to: a).reduce(try log.state(at: b)) { try $0.applying($1.ops) }
        } catch let error as SchemaError {
            throw MergeConflict(heads: (a, b), reason: error.message)
        }
        guard viaA == viaB else {
            let d = viaA.differences(to: viaB).joined(separator: "; ")
            throw MergeConflict(heads: (a, b), reason: "one order gives what the other undoes: \(d)")
        }
        let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ProjectError("a merge needs a message: -m \"...\"") }
        let event = try signed(Event(parents: [a, b], author: config.author, timestamp: now, message: trimmed, ops: []))
        try log.append([event], expectedHeads: heads)
        return event
    }

    /// Replaces unpublished events with one revision from `base` (the
    /// registry's head) to the models file: how local work that conflicts
    /// with the registry's is redone. Nil when the models file already equals
    /// the state at `base` (the local events are then simply dropped).
    package func redo(_ pending: [Event], onto base: String?, renames: RenameHints = RenameHints(), now: Int64) throws -> NewRevision? {
        let before = try log.state(at: base)
        let wanted = comparable(try modelsSchema(), against: before, renames: renames)
        let ops = try before.diff(to: wanted, renames: renames)
        guard !ops.isEmpty else {
            try log.replaceUnpublished(pending.map(\.id), with: [])
            return nil
        }
        let event = try provenEvent(ops, message: pending.map(\.message).joined(separator: "; "), parents: base.map { [$0] } ?? [],
                                    before: before, expected: wanted, now: now, purgeDropped: pending.contains(where: \.purgeDropped),
                                    accepted: Array(Set(pending.flatMap(\.accepted))))
        try log.replaceUnpublished(pending.map(\.id), with: [event])
        return NewRevision(event: event, warnings: Project.warnings(for: event))
    }
}
