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
    /// What was recorded less directly than the rest (an Alembic revision
    /// in batch mode).
    public var warnings: [String] = []
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
        var summary = ImportSummary()
        let migrations: [FolderMigration]
        if format == .alembic {
            let revisions = try alembicRevisions(dir, checkDowns: false)
            migrations = revisions.map {
                FolderMigration(version: $0.revision, name: $0.message, up: $0.statements.map { $0 + ";\n" }.joined(),
                                down: nil, timestamp: $0.timestamp, label: "\($0.revision) (\($0.message))")
            }
            summary.warnings = revisions.filter(\.usesBatchMode).map {
                "\($0.label) uses batch mode: the table it rebuilds was read from the SQL Alembic ran on a scratch SQLite database "
                    + "and recorded as one change of the table (a column copied under a new name as a rename); check its summary in `strata history`"
            }
        } else {
            migrations = try format.read(dir)
        }
        guard !migrations.isEmpty else { throw ProjectError("\(dir) holds no \(format.rawValue) migrations") }
        let heads = try log.heads()
        let onto = try importBase(revision)
        var state = try log.state(at: onto)
        var parent = onto
        var events: [Event] = []
        for (n, m) in migrations.enumerated() {
            progress(n, migrations.count)
            summary.migrations += 1
            let source = format.source(of: m)
            summary.warnings += m.notes.map { "\(source): \($0)" }
            let (ops, after) = try Importer.ops(of: m.up, from: state, source: source)
            guard !ops.isEmpty else {
                summary.skipped.append(m.label)
                continue
            }
            summary.renames += ops.filter { if case .renameColumn = $0 { return true }; if case .renameTable = $0 { return true }; return false }.count
            summary.dataSteps += ops.filter { if case .exec = $0 { return true } else { return false } }.count
            // Versions that are date-times give the time; else the epoch plus the step's number (never the clock).
            let time = m.timestamp ?? Int64(n + 1) * 1000
            // A file name's words are joined by `_`; an Alembic message is written as a sentence.
            let message = format == .alembic ? m.name : m.name.replacingOccurrences(of: "_", with: " ")
            let event = try signed(Event(parents: parent.map { [$0] } ?? [], author: author ?? config.author, timestamp: time, message: message, ops: ops))
            do { try Project.prove(event, before: state, expected: after) } catch {
                throw ProjectError("\(source) cannot be recorded: \(error)")
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

extension Project {
    /// The revision an import builds on: `--onto`, else head (base for an empty log).
    func importBase(_ revision: String?) throws -> String? {
        try revision.map { try log.resolve($0) } ?? (try log.heads().isEmpty ? nil : try log.head())
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
        var copyRenames: [(table: String, from: String, to: String)] = []
        func flush() throws {
            guard !pending.isEmpty else { return }
            let after = try Inspector(db).schema()
            var renames = try Project.renames(in: pending.joined(separator: ";\n"))
            renames.columns += copyRenames
            ops += try groupStart.diff(to: after, renames: kept(renames, existing: groupStart))
            groupStart = after
            pending = []
            copyRenames = []
        }
        try StatementRunner.each(sql, on: db, source: source) { statement, first, rest, _ in
            let word = first.text.uppercased()
            switch word {
            case "CREATE", "DROP", "ALTER":
                pending.append(statement)
                return .run
            case "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH":
                // The copy of a create-copy-drop-rename rebuild belongs to the
                // table's change (strata's own rebuild copies the rows); a
                // column it copies under a new name is a rename.
                if let renames = try rebuildCopy(statement, pending: pending, rest: rest(), db: db) {
                    copyRenames += renames
                    return .run
                }
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

    /// `INSERT INTO new_t [(cols)] SELECT ... FROM t` where `new_t` was
    /// created in the same group of schema statements and is renamed further
    /// on: the copy of a rebuild. Returns the columns it copies under
    /// another name (`SELECT t.age` into `years`), or nil when the statement
    /// is not such a copy.
    static func rebuildCopy(_ statement: String, pending: [String], rest: String, db: Connection)
        throws -> [(table: String, from: String, to: String)]? {
        guard let tokens = try? SQL.tokenize(statement), tokens.count > 3, tokens[0].isKeyword("INSERT"),
              let intoIndex = tokens.firstIndex(where: { $0.isKeyword("INTO") }), intoIndex + 1 < tokens.count,
              let copy = tokens[intoIndex + 1].identifier,
              let select = tokens.firstIndex(where: { $0.isKeyword("SELECT") }) else { return nil }
        let created = pending.contains { p in
            guard let t = try? SQL.tokenize(p), t.count > 2, t[0].isKeyword("CREATE"), let i = t.firstIndex(where: { $0.isKeyword("TABLE") }) else { return false }
            var j = i + 1
            while j < t.count, t[j].isKeyword("IF") || t[j].isKeyword("NOT") || t[j].isKeyword("EXISTS") { j += 1 }
            return j < t.count && t[j].identifier?.lowercased() == copy.lowercased()
        }
        guard created, let later = try? SQL.tokenize(rest) else { return nil }
        let renamedLater = later.indices.contains { i in
            i + 4 < later.count && later[i].isKeyword("ALTER") && later[i + 1].isKeyword("TABLE")
                && later[i + 2].identifier?.lowercased() == copy.lowercased() && later[i + 3].isKeyword("RENAME") && later[i + 4].isKeyword("TO")
        }
        guard renamedLater else { return nil }

        // The target columns: the list written, else the new table's own order.
        var targets: [String]
        if intoIndex + 2 < select, tokens[intoIndex + 2].text == "(" {
            targets = SQL.splitTopLevel(tokens[(intoIndex + 3)..<(select - 1)]).compactMap { $0.count == 1 ? $0.first?.identifier : nil }
        } else {
            targets = try db.query("SELECT name FROM pragma_table_info(?)", [.text(copy)]).compactMap { $0.first?.string }
        }
        var depth = 0
        var end = select + 1
        while end < tokens.count, !(depth == 0 && tokens[end].isKeyword("FROM")) {
            if tokens[end].text == "(" { depth += 1 } else if tokens[end].text == ")" { depth -= 1 }
            end += 1
        }
        guard end + 1 < tokens.count, let source = tokens[end + 1].identifier else { return [] }
        let items = SQL.splitTopLevel(tokens[(select + 1)..<end])
        guard items.count == targets.count else { return [] }
        return zip(items, targets).compactMap { item, target in
            // A bare column, `col` or `t.col`: anything else computes a value.
            let t = Array(item)
            let name = t.count == 1 ? t[0].identifier : (t.count == 3 && t[1].text == "." ? t[2].identifier : nil)
            guard let name, name.lowercased() != target.lowercased() else { return nil }
            return (table: source, from: name, to: target)
        }
    }

    /// The renames that rename something that existed before them into a
    /// name that did not (a rebuild's `RENAME new_t TO t` is part of the
    /// table's change, not a rename; a copy of `a` into an existing `b` is
    /// not one either).
    static func kept(_ all: RenameHints, existing: Schema) -> RenameHints {
        var kept = all
        kept.tables = all.tables.filter { existing.table($0.from) != nil && existing.table($0.to) == nil }
        kept.columns = all.columns.filter {
            existing.table($0.table)?.column($0.from) != nil && existing.table($0.table)?.column($0.to) == nil
        }
        return kept
    }
}
