import Foundation
import StrataCore
import StrataSQLite

/// A refusal of a project command, with what to do instead.
public struct ProjectError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Two heads that cannot be merged: their branches change the same objects
/// in different ways.
public struct MergeConflict: Error, CustomStringConvertible, Sendable {
    public let heads: (String, String)
    public let reason: String

    public var description: String {
        "the heads \(heads.0.prefix(12)) and \(heads.1.prefix(12)) change the same objects in different ways (\(reason)), "
            + "so they cannot be merged; if one of them is unpushed local work, `strata sync --redo` redoes it on top of the "
            + "registry's head from the models file"
    }
}

/// One strata project: its settings, its log and its databases. The CLI's
/// commands are thin calls into this.
public final class Project {
    public let root: URL
    public let config: Config
    public let log: SQLiteEventLog

    init(root: URL, config: Config, log: SQLiteEventLog) {
        self.root = root
        self.config = config
        self.log = log
    }

    /// Opens the project whose `strata.toml` is in `directory`.
    public static func open(directory: String) throws -> Project {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let configPath = root.appendingPathComponent(Config.fileName).path
        guard let text = try? String(contentsOfFile: configPath, encoding: .utf8) else {
            throw ProjectError("no \(Config.fileName) in \(root.path); run `strata init` there, or pass -C DIR")
        }
        let config = try Config(toml: text, source: configPath)
        let log = try SQLiteEventLog(path: resolve(config.log, in: root))
        return Project(root: root, config: config, log: log)
    }

    /// Creates `strata.toml`, the local log and (if missing) an empty models file.
    public static func initialize(directory: String, config: Config) throws -> Project {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let fm = FileManager.default
        let configPath = root.appendingPathComponent(Config.fileName).path
        var config = config
        var adopting = false
        if fm.fileExists(atPath: configPath) {
            // A checked-in strata.toml (a fresh clone): keep it, create the local log.
            guard let text = try? String(contentsOfFile: configPath, encoding: .utf8) else {
                throw ProjectError("cannot read \(configPath)")
            }
            config = try Config(toml: text, source: configPath)
            guard !fm.fileExists(atPath: resolve(config.log, in: root)) else {
                throw ProjectError("\(configPath) exists already: this directory is a strata project")
            }
            adopting = true
        }
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        let modelsPath = resolve(config.models, in: root)
        if !fm.fileExists(atPath: modelsPath) {
            try fm.createDirectory(atPath: (modelsPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try "-- The desired schema, as plain SQLite DDL (CREATE TABLE, INDEX, VIEW, TRIGGER).\n"
                .write(toFile: modelsPath, atomically: true, encoding: .utf8)
        }
        let logPath = resolve(config.log, in: root)
        try fm.createDirectory(atPath: (logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let log = try SQLiteEventLog(path: logPath, create: true)
        if !adopting { try config.toml.write(toFile: configPath, atomically: true, encoding: .utf8) }
        return Project(root: root, config: config, log: log)
    }

    static func resolve(_ path: String, in root: URL) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return expanded }
        return root.appendingPathComponent(expanded).standardizedFileURL.path
    }

    public func path(_ relative: String) -> String { Project.resolve(relative, in: root) }

    // MARK: - Revisions

    /// The schema the models file declares.
    public func modelsSchema() throws -> Schema {
        let file = path(config.models)
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ProjectError("cannot read the models file \(file); create it or fix `models` in \(Config.fileName)")
        }
        return try Models.schema(fromDDL: text, source: config.models)
    }

    public struct NewRevision {
        public let event: Event
        public let warnings: [String]
    }

    /// Diffs the models file against the state at head. Nil when they are equal.
    public func autogenerate(message: String, renames: RenameHints, now: Int64) throws -> NewRevision? {
        let head = try log.head()
        let before = try log.state(at: head)
        let wanted = try modelsSchema()
        let ops = try before.diff(to: wanted, renames: renames)
        if ops.isEmpty { return nil }
        return try record(ops, message: message, parents: head.map { [$0] } ?? [], before: before, expected: wanted, now: now)
    }

    /// A hand-written change: the DDL runs on a copy of the head state and the
    /// difference becomes the event's ops. `ALTER TABLE ... RENAME` statements
    /// become renames (not drop and add).
    public func handwritten(message: String, sql: String, now: Int64) throws -> NewRevision {
        let head = try log.head()
        let before = try log.state(at: head)
        let after = try Models.schema(applying: sql, to: before, source: "--sql")
        let ops = try before.diff(to: after, renames: try Project.renames(in: sql))
        guard !ops.isEmpty else { throw ProjectError("--sql changes nothing in the schema at head; nothing was recorded") }
        return try record(ops, message: message, parents: head.map { [$0] } ?? [], before: before, expected: after, now: now)
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

    func record(_ ops: [Op], message: String, parents: [String], before: Schema, expected: Schema, now: Int64) throws -> NewRevision {
        let event = try provenEvent(ops, message: message, parents: parents, before: before, expected: expected, now: now)
        try log.append([event], expectedHeads: parents)
        return NewRevision(event: event, warnings: Project.warnings(for: event))
    }

    /// A new event by this node's author, proved before anything stores it.
    func provenEvent(_ ops: [Op], message: String, parents: [String], before: Schema, expected: Schema, now: Int64) throws -> Event {
        let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ProjectError("a revision needs a message: -m \"what changed\"") }
        let event = Event(parents: parents, author: config.author, timestamp: now, message: trimmed, ops: ops)
        try Project.prove(event, before: before, expected: expected)
        return event
    }

    /// Proves an event before it is appended: in a scratch in-memory database
    /// holding `before`, its SQL must produce `expected`, and its inverse's
    /// SQL must bring `before` back.
    public static func prove(_ event: Event, before: Schema, expected: Schema) throws {
        let context = MigrationContext(appliedBy: "strata", node: "proof", now: event.timestamp)
        let db = try TargetDatabase(path: ":memory:")
        try db.create(before)
        try db.stamp(nil, events: [], context: context)
        let up = try Migrator.plan(start: before, from: nil, to: event.id, steps: [MigrationStep(event, .up)], context: context)
        guard up.finalState == expected else {
            throw ProjectError("internal error: the ops of the new revision do not reach the models schema; nothing was recorded")
        }
        try db.apply(up)
        let reached = try db.schema()
        guard reached == expected else {
            let d = (try? reached.diff(to: expected)).map { $0.map(\.summary).joined(separator: "; ") } ?? "?"
            throw ProjectError("internal error: the SQL planned for the new revision does not produce the models schema (missing: \(d)); nothing was recorded")
        }
        let down = try Migrator.plan(start: expected, from: event.id, to: nil, steps: [MigrationStep(event, .down)], context: context)
        try db.apply(down)
        guard try db.schema() == before else {
            throw ProjectError("internal error: the inverse of the new revision does not restore the previous schema; nothing was recorded")
        }
    }

    static func warnings(for event: Event) -> [String] {
        event.ops.compactMap { op in
            guard case let .dropColumn(table, column, _) = op, column.notNull,
                  column.defaultValue == nil || column.defaultValue == "NULL" else { return nil }
            return "\(table).\(column.name) is NOT NULL without a default: downgrading this revision can restore it only while \(table) is empty"
        }
    }

    /// Joins two heads with a merge event, after checking that the branches
    /// commute (applying them in either order gives the same schema).
    public func merge(message: String, now: Int64) throws -> Event {
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
            let d = (try? viaA.diff(to: viaB)).map { $0.map(\.summary).joined(separator: "; ") } ?? ""
            throw MergeConflict(heads: (a, b), reason: "one order gives what the other undoes: \(d)")
        }
        let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ProjectError("a merge needs a message: -m \"...\"") }
        let event = Event(parents: [a, b], author: config.author, timestamp: now, message: trimmed, ops: [])
        try log.append([event], expectedHeads: heads)
        return event
    }

    /// Replaces unpublished events with one revision from `base` (the
    /// registry's head) to the models file: how local work that conflicts
    /// with the registry's is redone. Nil when the models file already equals
    /// the state at `base` (the local events are then simply dropped).
    public func redo(_ pending: [Event], onto base: String?, renames: RenameHints = RenameHints(), now: Int64) throws -> NewRevision? {
        let before = try log.state(at: base)
        let wanted = try modelsSchema()
        let ops = try before.diff(to: wanted, renames: renames)
        guard !ops.isEmpty else {
            try log.replaceUnpublished(pending.map(\.id), with: [])
            return nil
        }
        let event = try provenEvent(ops, message: pending.map(\.message).joined(separator: "; "), parents: base.map { [$0] } ?? [],
                                    before: before, expected: wanted, now: now)
        try log.replaceUnpublished(pending.map(\.id), with: [event])
        return NewRevision(event: event, warnings: Project.warnings(for: event))
    }

    /// The state before an event's ops (for a merge: first parent plus the second branch).
    public func stateBefore(_ e: Event) throws -> Schema {
        try log.stateBefore(e) { try log.state(at: $0) }
    }

    // MARK: - Databases

    /// The databases a command acts on: `--db` paths, all configured with `--all`, else the first configured.
    public func databasePaths(_ overrides: [String], all: Bool) throws -> [String] {
        if !overrides.isEmpty { return overrides.map { path($0) } }
        guard !config.databases.isEmpty else {
            throw ProjectError("no database is configured: pass --db PATH or add `databases = [\"app.db\"]` to \(Config.fileName)")
        }
        return (all ? config.databases : [config.databases[0]]).map { path($0) }
    }

    /// Events from the log, and from the database's own copies for those the
    /// log lacks (a database migrated by a newer log can still go back).
    public func source(for db: TargetDatabase) throws -> CombinedSource { CombinedSource(log: log, database: db) }

    public enum UpgradeTarget: Equatable { case head, revision(String), relative(Int) }
    public enum DowngradeTarget: Equatable { case base, revision(String), relative(Int) }

    public static func parseUpgradeTarget(_ s: String) throws -> UpgradeTarget {
        if s.lowercased() == "head" { return .head }
        if s.hasPrefix("+") {
            guard let n = Int(s.dropFirst()), n > 0 else { throw ProjectError("\(s): expected +N with N a positive number") }
            return .relative(n)
        }
        if s.hasPrefix("-") { throw ProjectError("\(s): upgrade goes forward; use `strata downgrade \(s)`") }
        return .revision(s)
    }

    public static func parseDowngradeTarget(_ s: String) throws -> DowngradeTarget {
        if s.lowercased() == "base" { return .base }
        if s.hasPrefix("-") {
            guard let n = Int(s.dropFirst()), n > 0 else { throw ProjectError("\(s): expected -N with N a positive number") }
            return .relative(n)
        }
        if s.hasPrefix("+") || s.lowercased() == "head" { throw ProjectError("\(s): downgrade goes back; use `strata upgrade \(s)`") }
        return .revision(s)
    }

    /// Plans an upgrade; nil when the database is already there.
    public func planUpgrade(_ db: TargetDatabase, to target: UpgradeTarget, context: MigrationContext) throws -> MigrationPlan? {
        let source = try source(for: db)
        let current = try db.currentRevision()
        if let current, !(try source.contains(current)) { throw unknownRevision(current, db) }
        let goal: String
        switch target {
        case .head:
            guard let h = try log.head() else {
                throw ProjectError("the log is empty: there is no head to upgrade to; run `strata revision --autogenerate -m MESSAGE` first")
            }
            goal = h
        case .revision(let r):
            guard let id = try resolveRevision(r, source: source) else {
                throw ProjectError("upgrade goes forward; to go to base use `strata downgrade base`")
            }
            goal = id
        case .relative(let n):
            guard let h = try log.head() else { throw ProjectError("the log is empty: there is nothing to upgrade to") }
            var chain: [String] = []
            var cursor: String? = h
            while let c = cursor, c != current {
                let e = try source.event(c)
                guard e.parents.count <= 1 else { throw ProjectError("+\(n) would cross a merge; name the revision instead") }
                chain.append(c)
                cursor = e.parents.first
            }
            guard cursor == current else { throw ProjectError("the database is not on the path to head; name a revision instead of +\(n)") }
            guard n <= chain.count else {
                throw ProjectError("cannot upgrade \(n) revisions: the database is \(chain.count) below head; use `strata upgrade head`")
            }
            goal = chain[chain.count - n]
        }
        if goal == current { return nil }
        if let current {
            if try source.isAncestor(goal, of: current) {
                throw ProjectError("the database is at \(current.prefix(12)), past \(goal.prefix(12)); to go back use `strata downgrade \(goal.prefix(12))`")
            }
            guard try source.isAncestor(current, of: goal) else {
                // A revision only the database's records hold (say, a local
                // revision that `sync` rebased): go back to the common
                // ancestor and forward again, in one transaction.
                if !(try log.contains(current)) { return try planMove(db, to: goal, context: context) }
                throw ProjectError("the database is at \(current.prefix(12)), on a branch that does not lead to \(goal.prefix(12)); downgrade it to a common ancestor first, or merge the heads")
            }
        }
        let steps = try source.range(from: current, to: goal).map { MigrationStep($0, .up) }
        return try Migrator.plan(start: try source.state(at: current), from: current, to: goal, steps: steps, context: context)
    }

    /// Plans a downgrade; nil when the database is already there.
    public func planDowngrade(_ db: TargetDatabase, to target: DowngradeTarget, context: MigrationContext) throws -> MigrationPlan? {
        let source = try source(for: db)
        guard let current = try db.currentRevision() else {
            if target == .base { return nil }
            throw ProjectError("the database is at base: there is nothing to downgrade")
        }
        guard try source.contains(current) else { throw unknownRevision(current, db) }
        let goal: String?
        switch target {
        case .base: goal = nil
        case .revision(let r): goal = try resolveRevision(r, source: source)
        case .relative(let n):
            var cursor: String? = current
            for step in 0..<n {
                guard let c = cursor else {
                    throw ProjectError("cannot downgrade \(n) revisions: the database is only \(step) above base; use `strata downgrade base`")
                }
                cursor = try source.event(c).parents.first
            }
            goal = cursor
        }
        if goal == current { return nil }
        if let goal, !(try source.isAncestor(goal, of: current)) {
            throw ProjectError("\(goal.prefix(12)) is not behind the database's revision \(current.prefix(12)); use `strata upgrade` to go forward")
        }
        let steps = try source.range(from: goal, to: current).reversed().map { MigrationStep($0, .down) }
        return try Migrator.plan(start: try source.state(at: current), from: current, to: goal, steps: steps, context: context)
    }

    /// Plans the way from the database's revision to `goal`, whichever
    /// direction: down to their newest common ancestor, then up. Nil when
    /// the database is there already.
    public func planMove(_ db: TargetDatabase, to goal: String?, context: MigrationContext) throws -> MigrationPlan? {
        let source = try source(for: db)
        let current = try db.currentRevision()
        if current == goal { return nil }
        if let current, !(try source.contains(current)) { throw unknownRevision(current, db) }
        var meet: String?
        if let current, let goal {
            let mine = try source.ancestors(of: current)
            var best: (id: String, height: Int)?
            for id in try source.ancestors(of: goal) where mine.contains(id) {
                let h = try source.height(id)
                if best == nil || h > best!.height { best = (id, h) }
            }
            meet = best?.id
        }
        var steps: [MigrationStep] = []
        if let current { steps += try source.range(from: meet, to: current).reversed().map { MigrationStep($0, .down) } }
        if let goal { steps += try source.range(from: meet, to: goal).map { MigrationStep($0, .up) } }
        return try Migrator.plan(start: try source.state(at: current), from: current, to: goal, steps: steps, context: context)
    }

    func resolveRevision(_ r: String, source: CombinedSource) throws -> String? {
        do { return try log.resolve(r) } catch let e as LogError where e.kind == .notFound {
            let matches = try source.database?.storedEventIDs(withPrefix: r.lowercased()) ?? []
            if r.count >= 4 && matches.count == 1 { return matches[0] }
            throw e
        }
    }

    func unknownRevision(_ id: String, _ db: TargetDatabase) -> ProjectError {
        ProjectError("database \(db.path) is at revision \(id.prefix(12)), which neither the local log nor the database's own records hold; pull from the registry, or `strata stamp` it with its real revision")
    }

    /// The events from base to `id`, for stamping and materializing.
    public func lineage(of id: String?) throws -> [Event] {
        guard let id else { return [] }
        return try log.range(from: nil, to: id)
    }
}

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
