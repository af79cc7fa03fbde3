import Foundation
import StrataCore
import StrataSQLite

/// What `strata import` recorded.
public struct ImportSummary: Sendable, Equatable {
    public var migrations = 0
    public var events: [String] = []
    public var renames = 0
    public var dataSteps = 0
    /// Migrations with nothing to record (an empty up file, only PRAGMAs).
    public var skipped: [String] = []
}

/// `strata import FORMAT DIR`: one event per migration, each migration's up
/// SQL run statement by statement against the state it starts from.
/// Schema statements become ops (renames stay renames; the
/// create-copy-drop-rename rebuild becomes one change of the table), row
/// statements become data steps in the order they appear. Deterministic:
/// the same folder and author give every teammate the same ids.
extension Project {
    public func importFolder(_ format: ImportFormat, _ dir: String, onto revision: String?, author: String?,
                             progress: (Int, Int) -> Void = { _, _ in }) throws -> ImportSummary {
        let migrations = try format.read(dir)
        guard !migrations.isEmpty else { throw ProjectError("\(dir) holds no \(format.rawValue) migrations") }
        let heads = try log.heads()
        let onto: String? = try revision.map { try log.resolve($0) } ?? (heads.isEmpty ? nil : try log.head())
        var state = try log.state(at: onto)
        var parent = onto
        var summary = ImportSummary()
        var events: [Event] = []
        for (n, m) in migrations.enumerated() {
            progress(n, migrations.count)
            summary.migrations += 1
            let label = "\(m.version)_\(m.name)"
            let (ops, after) = try Importer.ops(of: m.up, from: state, source: "\(format.rawValue) migration \(label)")
            guard !ops.isEmpty else {
                summary.skipped.append(label)
                continue
            }
            summary.renames += ops.filter { if case .renameColumn = $0 { return true }; if case .renameTable = $0 { return true }; return false }.count
            summary.dataSteps += ops.filter { if case .exec = $0 { return true } else { return false } }.count
            // Versions that are date-times give the time; else the epoch plus the step's number (never the clock).
            let time = m.timestamp ?? Int64(n + 1) * 1000
            let message = m.name.replacingOccurrences(of: "_", with: " ")
            let event = Event(parents: parent.map { [$0] } ?? [], author: author ?? config.author, timestamp: time, message: message, ops: ops)
            do { try Project.prove(event, before: state, expected: after) } catch {
                throw ProjectError("\(format.rawValue) migration \(label) cannot be recorded: \(error)")
            }
            events.append(event)
            summary.events.append(event.id)
            parent = event.id
            state = after
        }
        progress(migrations.count, migrations.count)
        try log.append(events, expectedHeads: heads)
        return summary
    }
}

enum Importer {
    /// The ops of one migration's SQL, applied to `start`, and the state after.
    static func ops(of sql: String, from start: Schema, source: String) throws -> ([Op], Schema) {
        let db = try Connection.memory()
        for statement in DDL.script(start) { try db.execute(statement) }
        var ops: [Op] = []
        var groupStart = start
        var pending: [String] = []
        func flush() throws {
            guard !pending.isEmpty else { return }
            let after = try Inspector(db).schema()
            ops += try groupStart.diff(to: after, renames: try hints(in: pending.joined(separator: ";\n"), existing: groupStart))
            groupStart = after
            pending = []
        }
        try StatementRunner.each(sql, on: db, source: source) { statement, first, rest, _ in
            let word = first.text.uppercased()
            switch word {
            case "CREATE", "DROP", "ALTER":
                pending.append(statement)
                return .run
            case "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH":
                // The copy of a create-copy-drop-rename rebuild belongs to the
                // table's change (strata's own rebuild copies the rows).
                if isRebuildCopy(statement, pending: pending, rest: rest) { return .run }
                try flush()
                ops.append(.exec(forward: statement, reverse: nil))
                return .run
            default:
                // BEGIN/COMMIT (strata runs a whole upgrade in one transaction),
                // PRAGMA foreign_keys and the like, SELECT: nothing to record.
                return .skip
            }
        }
        try flush()
        return (ops, groupStart)
    }

    /// `INSERT INTO t ... SELECT` where `t` was created in the same group of
    /// schema statements and is renamed further on.
    static func isRebuildCopy(_ statement: String, pending: [String], rest: String) -> Bool {
        guard let tokens = try? SQL.tokenize(statement), tokens.count > 3, tokens[0].isKeyword("INSERT"),
              let intoIndex = tokens.firstIndex(where: { $0.isKeyword("INTO") }), intoIndex + 1 < tokens.count,
              let table = tokens[intoIndex + 1].identifier?.lowercased(), tokens.contains(where: { $0.isKeyword("SELECT") }) else { return false }
        let created = pending.contains { p in
            guard let t = try? SQL.tokenize(p), t.count > 2, t[0].isKeyword("CREATE"), let i = t.firstIndex(where: { $0.isKeyword("TABLE") }) else { return false }
            var j = i + 1
            while j < t.count, t[j].isKeyword("IF") || t[j].isKeyword("NOT") || t[j].isKeyword("EXISTS") { j += 1 }
            return j < t.count && t[j].identifier?.lowercased() == table
        }
        guard created, let later = try? SQL.tokenize(rest) else { return false }
        return later.indices.contains { i in
            i + 4 < later.count && later[i].isKeyword("ALTER") && later[i + 1].isKeyword("TABLE")
                && later[i + 2].identifier?.lowercased() == table && later[i + 3].isKeyword("RENAME") && later[i + 4].isKeyword("TO")
        }
    }

    /// Renames the statements name, kept only where they rename something
    /// that existed before them (a rebuild's `RENAME new_t TO t` is part of
    /// the table's change, not a rename).
    static func hints(in sql: String, existing: Schema) throws -> RenameHints {
        var all = try Project.renames(in: sql)
        all.tables = all.tables.filter { existing.table($0.from) != nil && existing.table($0.to) == nil }
        all.columns = all.columns.filter { existing.table($0.table)?.column($0.from) != nil }
        return all
    }
}
