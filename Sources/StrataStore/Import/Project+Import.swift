import Foundation
import StrataCore
import StrataSQLite

/// What `strata import` recorded.
package struct ImportSummary: Sendable, Equatable {
    package var migrations = 0
    package var events: [String] = []
    package var renames = 0
    package var dataSteps = 0
    /// Migrations with nothing to record (an empty up file, only PRAGMAs).
    package var skipped: [String] = []
    /// What was recorded less directly than the rest (an Alembic revision
    /// in batch mode).
    package var warnings: [String] = []
}

/// `strata import FORMAT DIR`: one event per migration, each migration's up
/// SQL run statement by statement against the state it starts from.
/// Schema statements become ops (renames stay renames; the
/// create-copy-drop-rename rebuild becomes one change of the table), row
/// statements become data steps in the order they appear. Deterministic:
/// the same folder and author give every teammate the same ids.
extension Project {
    package func importFolder(_ format: ImportFormat, _ dir: String, onto revision: String?, author: String?,
                             progress: (Int, Int) -> Void = { _, _ in }) throws -> ImportSummary {
        var summary = ImportSummary()
        let migrations: [FolderMigration]
        if format == .alembic {
            let revisions = try alembicRevisions(dir, checkDowns: false)
            migrations = revisions.map {
                FolderMigration(version: $0.revision, name: $0.message, up: $0.statements.map { $0 + ";\n" }.joined(),
                                down: nil, timestamp: $0.timestamp, label: "\($0.revision) (\($0.message))")
            }
            summary.warnings = revisions.flatMap { r in r.notes.map { "\(r.label): \($0)" } }
            summary.warnings += revisions.filter(\.usesBatchMode).map {
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
        var lastTime: (time: Int64, step: Int)?
        for (n, m) in migrations.enumerated() {
            progress(n, migrations.count)
            summary.migrations += 1
            let source = format.source(of: m)
            summary.warnings += m.notes.map { "\(source): \($0)" }
            let (ops, after, notes) = try Importer.ops(of: m.up, from: state, source: source)
            summary.warnings += notes.map { "\(source): \($0)" }
            guard !ops.isEmpty else {
                summary.skipped.append(m.label)
                continue
            }
            summary.renames += ops.filter { if case .renameColumn = $0 { return true }; if case .renameTable = $0 { return true }; return false }.count
            summary.dataSteps += ops.filter { if case .exec = $0 { return true } else { return false } }.count
            // Versions that are date-times give the time; one without, among
            // them, a millisecond a step after the last one that had it; else
            // the epoch plus the step's number (never the clock).
            let time = m.timestamp ?? lastTime.map { $0.time + Int64(n - $0.step) } ?? Int64(n + 1) * 1000
            if m.timestamp != nil { lastTime = (time, n) }
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
    /// The ops of one migration's SQL, applied to `start`, the state after,
    /// and what the ops do not carry (a value a rebuild's copy computed).
    static func ops(of sql: String, from start: Schema, source: String) throws -> (ops: [Op], after: Schema, notes: [String]) {
        let db = try Connection.memory()
        for statement in DDL.script(start) { try db.executeOne(statement) }
        var ops: [Op] = []
        var groupStart = start
        var pending: [String] = []
        var pendingLines: [Int] = []
        var copyRenames: [(table: String, from: String, to: String)] = []
        var notes: [String] = []
        func flush() throws {
            guard !pending.isEmpty else { return }
            let after = try Inspector(db).schema()
            var renames = try Project.renames(in: pending.joined(separator: ";\n"))
            renames.columns += copyRenames
            do {
                ops += try groupStart.diff(to: after, renames: kept(renames, existing: groupStart, after: after))
            } catch {
                let lines = pendingLines.count == 1 ? "the statement at line \(pendingLines[0])" : "the statements at lines \(pendingLines.first!)-\(pendingLines.last!)"
                throw ProjectError("\(source): \(lines): \(error)")
            }
            groupStart = after
            pending = []
            pendingLines = []
            copyRenames = []
        }
        try StatementRunner.each(sql, on: db, source: source) { statement, first, rest, line in
            let word = first.text.uppercased()
            switch word {
            case "CREATE", "DROP", "ALTER":
                pending.append(statement)
                pendingLines.append(line)
                return .run
            case "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH":
                // The copy of a create-copy-drop-rename rebuild belongs to the
                // table's change (strata's own rebuild copies the rows); a
                // column it copies under a new name is a rename.
                if let copy = try rebuildCopy(statement, pending: pending, rest: rest(), db: db) {
                    copyRenames += copy.renames
                    notes += copy.conversions.map {
                        "the rebuild at line \(line) copies \($0): strata records the change of the table, and its own rebuild copies the column as it is, "
                            + "so the conversion is not recorded; record it as a data step (strata revision --exec) if the rows need it"
                    }
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
        return (ops, groupStart, notes)
    }

    /// `INSERT INTO new_t [(cols)] SELECT ... FROM t` where `new_t` was
    /// created in the same group of schema statements and is renamed further
    /// on, or `INSERT INTO t SELECT ... FROM old_t` where `t` was renamed to
    /// `old_t` and created again before it and `old_t` is dropped further
    /// on: the copy of a rebuild; nil when the statement is not such a copy.
    static func rebuildCopy(_ statement: String, pending: [String], rest: String, db: Connection) throws -> RebuildCopy? {
        guard let tokens = try? SQL.tokenize(statement), tokens.count > 3, tokens[0].isKeyword("INSERT"),
              let intoIndex = tokens.firstIndex(where: { $0.isKeyword("INTO") }), intoIndex + 1 < tokens.count,
              let copy = tokens[intoIndex + 1].identifier,
              let select = tokens.firstIndex(where: { $0.isKeyword("SELECT") }) else { return nil }
        let created = pending.contains { p in
            guard let t = try? SQL.tokenize(p), t.count > 2, t[0].isKeyword("CREATE"), let i = t.firstIndex(where: { $0.isKeyword("TABLE") }) else { return false }
            var j = i + 1
            while j < t.count, t[j].isKeyword("IF") || t[j].isKeyword("NOT") || t[j].isKeyword("EXISTS") { j += 1 }
            return j < t.count && t[j].identifier.map { SQL.sameName($0, copy) } == true
        }
        guard created, let later = try? SQL.tokenize(rest) else { return nil }
        func renames(_ t: [SQLToken], from: String?, to: String?) -> Bool {
            t.indices.contains { i in
                i + 5 < t.count && t[i].isKeyword("ALTER") && t[i + 1].isKeyword("TABLE") && t[i + 3].isKeyword("RENAME") && t[i + 4].isKeyword("TO")
                    && (from.map { SQL.sameName(t[i + 2].identifier ?? "", $0) } ?? true)
                    && (to.map { SQL.sameName(t[i + 5].identifier ?? "", $0) } ?? true)
            }
        }
        // The source of the copy, read ahead (it names the table the rows come from).
        var depth = 0
        var end = select + 1
        while end < tokens.count, !(depth == 0 && tokens[end].isKeyword("FROM")) {
            if tokens[end].text == "(" { depth += 1 } else if tokens[end].text == ")" { depth -= 1 }
            end += 1
        }
        let source = end + 1 < tokens.count ? tokens[end + 1].identifier : nil
        // Two shapes of a rebuild: create `new_t`, copy, drop `t`, rename
        // `new_t` to `t`; or set `t` aside (rename it to `old_t`), create a
        // new `t`, copy, drop `old_t` (drizzle, Alembic's rename_table).
        let renamedLater = renames(later, from: copy, to: nil)
        let setAside = source.map { source in
            pending.contains { (try? SQL.tokenize($0)).map { renames($0, from: copy, to: source) } ?? false }
                && later.indices.contains { i in
                    i + 2 < later.count && later[i].isKeyword("DROP") && later[i + 1].isKeyword("TABLE")
                        && SQL.sameName(later[i + 2].identifier ?? "", source)
                }
        } ?? false
        guard renamedLater || setAside else { return nil }

        // The target columns: the list written, else the new table's own order.
        var targets: [String]
        if intoIndex + 2 < select, tokens[intoIndex + 2].text == "(" {
            targets = SQL.splitTopLevel(tokens[(intoIndex + 3)..<(select - 1)]).compactMap { $0.count == 1 ? $0.first?.identifier : nil }
        } else {
            targets = try db.query("SELECT name FROM pragma_table_info(?)", [.text(copy)]).compactMap { $0.first?.string }
        }
        guard let source else { return RebuildCopy() }
        // Renames are named as the table is before the group: `t`, whether
        // the rows come from `t` or from `t` set aside as `old_t`.
        let table = setAside && !renamedLater ? copy : source
        let items = SQL.splitTopLevel(tokens[(select + 1)..<end])
        guard items.count == targets.count else { return RebuildCopy() }
        var found = RebuildCopy()
        for (item, target) in zip(items, targets) {
            let t = Array(item)
            if let name = column(t) {
                if !SQL.sameName(name, target) { found.renames.append((table: table, from: name, to: target)) }
            } else if !(t.count == 1 && isLiteral(t[0])) && !isFill(t) {
                found.conversions.append("\(item.map(\.text).joined(separator: " ").replacingOccurrences(of: " ( ", with: "(").replacingOccurrences(of: " )", with: ")")) into \(target)")
            }
        }
        return found
    }

    /// What a rebuild's copy does besides moving rows: the columns it copies
    /// under another name (renames), and the values it computes
    /// (`BIN2B64(key_handle)` into `kid`), which strata's own rebuild does not
    /// compute again.
    struct RebuildCopy {
        var renames: [(table: String, from: String, to: String)] = []
        var conversions: [String] = []
    }

    /// A bare column, `col` or `t.col`.
    static func column(_ t: [SQLToken]) -> String? {
        t.count == 1 ? t[0].identifier : (t.count == 3 && t[1].text == "." ? t[2].identifier : nil)
    }

    /// `coalesce(col, literal)` or `ifnull(col, literal)`: the fill of a
    /// column made NOT NULL, which strata's rebuild writes too.
    static func isFill(_ t: [SQLToken]) -> Bool {
        guard t.count >= 6, ["coalesce", "ifnull"].contains(t[0].text.lowercased()), t[1].text == "(", t.last?.text == ")" else { return false }
        let args = SQL.splitTopLevel(t[2..<(t.count - 1)])
        return args.count == 2 && column(Array(args[0])) != nil && args[1].count == 1 && isLiteral(args[1].first!)
    }

    static func isLiteral(_ t: SQLToken) -> Bool {
        [.string, .number, .blob].contains(t.kind) || t.isKeyword("NULL") || t.isKeyword("TRUE") || t.isKeyword("FALSE")
    }

    /// The renames of a group of statements, as the group leaves them: a
    /// chain (`a` to `b`, then `b` to `c`) is one rename from `a` to `c`,
    /// and one that comes back (`user` to `__user_old` and back) is none.
    /// Kept are those that rename something that existed before the group
    /// into a name that did not and that is still there after it: a
    /// rebuild's `RENAME new_t TO t` is part of the table's change, and a
    /// table set aside under another name (`user` to `__user_old`, a new
    /// `user`, `__user_old` dropped) is not renamed at all.
    static func kept(_ all: RenameHints, existing: Schema, after: Schema) -> RenameHints {
        // Followed from the names before the group: a table the group
        // creates (a rebuild's `new_t`) has no rename of its own.
        var tables: [(from: String, to: String)] = []
        for hint in all.tables {
            if let i = tables.firstIndex(where: { SQL.sameName($0.to, hint.from) }) {
                tables[i].to = hint.to
            } else if existing.table(hint.from) != nil {
                tables.append(hint)
            }
        }
        var columns: [(table: String, from: String, to: String)] = []
        for var hint in all.columns {
            // A column renamed in a table renamed before it is named by the table's old name.
            if existing.table(hint.table) == nil, let table = tables.first(where: { SQL.sameName($0.to, hint.table) }) {
                hint.table = table.from
            }
            if let i = columns.firstIndex(where: { SQL.sameName($0.table, hint.table) && SQL.sameName($0.to, hint.from) }) {
                columns[i].to = hint.to
            } else {
                columns.append(hint)
            }
        }
        var kept = RenameHints()
        kept.tables = tables.filter {
            !SQL.sameName($0.from, $0.to) && existing.table($0.from) != nil && existing.table($0.to) == nil && after.table($0.to) != nil
        }
        kept.columns = columns.filter { hint in
            let renamed = kept.tables.first { SQL.sameName($0.from, hint.table) }?.to ?? hint.table
            return !SQL.sameName(hint.from, hint.to) && existing.table(hint.table)?.column(hint.from) != nil
                && existing.table(hint.table)?.column(hint.to) == nil && after.table(renamed)?.column(hint.to) != nil
        }
        return kept
    }
}
