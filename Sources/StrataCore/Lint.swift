/// What `strata lint` finds in an event before it runs. Codes are stable
/// (the README lists each); levels say whether `lint` exits 1.
package struct Finding: Hashable, Sendable {
    package enum Level: String, Sendable, Comparable {
        case warning, error
        package static func < (a: Level, b: Level) -> Bool { a == .warning && b == .error }
    }

    package let code: String
    package let level: Level
    /// The event and the op (its index in the event) the finding is about.
    package let event: String
    package let op: Int
    package let message: String
    /// The database a data-dependent finding was counted in.
    package var database: String?

    package init(code: String, level: Level, event: String, op: Int, message: String, database: String? = nil) {
        self.code = code
        self.level = level
        self.event = event
        self.op = op
        self.message = message
        self.database = database
    }
}

/// The findings that need no database: destructive, backward-incompatible,
/// irreversible and broken changes. Pure: the event and the state before it.
package enum Lint {
    /// Every code, its level and what it means (the README's table is this).
    package static let codes: [(code: String, level: Finding.Level, meaning: String)] = [
        ("DS101", .warning, "a table is dropped: its rows go (kept for a downgrade unless keep_dropped_data = false)"),
        ("DS102", .warning, "a column is dropped: its values go (kept for a downgrade unless keep_dropped_data = false)"),
        ("DS103", .warning, "a column's type affinity changes, which converts stored values (TEXT '007' into INTEGER is 7)"),
        ("DS104", .warning, "NOT NULL with a default is added: the default overwrites the column's NULLs"),
        ("MF101", .error, "NOT NULL without a default is added to a column that holds NULLs in a database: the upgrade would fail there"),
        ("MF102", .error, "a UNIQUE index or constraint over columns that hold duplicates in a database"),
        ("MF103", .error, "a new foreign key that rows of a database violate"),
        ("MF104", .error, "a new CHECK that rows of a database fail"),
        ("BC101", .warning, "a table is renamed: an application still deployed reads the old name"),
        ("BC102", .warning, "a column is renamed: an application still deployed reads the old name"),
        ("BC103", .warning, "a table is dropped: an application still deployed reads it"),
        ("BC104", .warning, "a column is dropped: an application still deployed reads it"),
        ("BC105", .error, "a view or trigger still names the renamed or dropped table or column: it breaks"),
        ("BC106", .warning, "an earlier data step names the renamed or dropped table or column: redoing it would fail"),
        // The CLI adds which flag lets a downgrade past it (this layer names none).
        ("IR101", .warning, "a data step without reverse SQL"),
        ("BK101", .error, "a foreign key whose parent columns are neither the parent's PRIMARY KEY nor UNIQUE: every write to the child fails with \"foreign key mismatch\""),
    ]

    package static func level(of code: String) -> Finding.Level { codes.first { $0.code == code }?.level ?? .warning }

    /// The static findings of `event`, applied to `before`; `earlier` are
    /// the events before it (for data steps that name what it renames or drops).
    package static func findings(of event: Event, before: Schema, earlier: [Event] = []) throws -> [Finding] {
        try findings(of: event, before: before, earlierData: { dataSteps(of: earlier) })
    }

    /// The forward SQL of the data steps in `events`.
    package static func dataSteps(of events: [Event]) -> [String] {
        events.flatMap { e in e.ops.compactMap { op -> String? in if case let .exec(f, _) = op { return f } else { return nil } } }
    }

    /// As above, with the earlier data steps read only when the event
    /// renames or drops something (reading them may mean reading the log).
    package static func findings(of event: Event, before: Schema, earlierData readEarlierData: () throws -> [String]) throws -> [Finding] {
        var found: [Finding] = []
        var state = before
        func add(_ code: String, _ op: Int, _ message: String) {
            found.append(Finding(code: code, level: level(of: code), event: event.id, op: op, message: message))
        }
        var earlierDataRead: [String]?
        func earlierData() throws -> [String] {
            if let earlierDataRead { return earlierDataRead }
            let read = try readEarlierData()
            earlierDataRead = read
            return read
        }
        /// Views and triggers after the op, and earlier data steps, that still name `name` (of `table`).
        func stillNamed(_ name: String, table: String?, op: Int, what: String) throws {
            let after = final
            for v in after.views.values.sorted(by: { $0.name < $1.name }) where SQL.mentions(v.sql, name: name) && (table == nil || SQL.mentions(v.sql, name: table!)) {
                add("BC105", op, "view \(v.name) still names \(what); rewrite it in the same revision")
            }
            for t in after.triggers.values.sorted(by: { $0.name < $1.name }) where SQL.mentions(t.sql, name: name) && (table == nil || SQL.mentions(t.sql, name: table!)) {
                add("BC105", op, "trigger \(t.name) still names \(what); rewrite it in the same revision")
            }
            if try earlierData().contains(where: { SQL.mentions($0, name: name) && (table == nil || SQL.mentions($0, name: table!)) }) {
                add("BC106", op, "an earlier data step names \(what)")
            }
        }
        // A finding is about the state the revision leaves, not a half-applied
        // one: a view, trigger or foreign key that a later op of the same
        // revision mends (or drops) is no finding.
        let final = try event.ops.reduce(before) { try $0.applying($1) }
        for (n, op) in event.ops.enumerated() {
            let after = try state.applying(op)
            switch op {
            case let .dropTable(t, _, _):
                add("DS101", n, "table \(t.name) is dropped with its rows")
                add("BC103", n, "table \(t.name) is dropped: an application still deployed may read it")
                try stillNamed(t.name, table: nil, op: n, what: "table \(t.name)")
            case let .dropColumn(table, c, _):
                add("DS102", n, "column \(table).\(c.name) is dropped with its values")
                add("BC104", n, "column \(table).\(c.name) is dropped: an application still deployed may read it")
                try stillNamed(c.name, table: table, op: n, what: "\(table).\(c.name)")
            case let .renameTable(from, to) where SQL.sameName(from, to), let .renameColumn(_, from, to) where SQL.sameName(from, to):
                break  // only the case changes: SQLite finds the object by either name
            case let .renameTable(from, to):
                add("BC101", n, "table \(from) is renamed to \(to): an application still deployed reads \(from)")
                try stillNamed(from, table: nil, op: n, what: "table \(from)")
            case let .renameColumn(table, from, to):
                add("BC102", n, "column \(table).\(from) is renamed to \(to): an application still deployed reads \(from)")
                try stillNamed(from, table: table, op: n, what: "\(table).\(from)")
            case let .alterColumn(table, from, to):
                if from.generated == nil && to.generated == nil && affinity(from.type) != affinity(to.type) {
                    add("DS103", n, "column \(table).\(to.name) changes type \(from.type.isEmpty ? "(none)" : from.type) -> \(to.type.isEmpty ? "(none)" : to.type), "
                        + "\(affinity(from.type)) to \(affinity(to.type)) affinity: stored values are converted")
                }
                if to.notNull && !from.notNull, let d = to.defaultValue, d != "NULL" {
                    add("DS104", n, "column \(table).\(to.name) becomes NOT NULL DEFAULT \(d): its NULLs become \(d)")
                }
            case let .exec(forward, reverse):
                if reverse == nil, let forward {
                    add("IR101", n, "the data step `\(forward.prefix(60))` has no reverse SQL")
                }
            default: break
            }
            state = after
        }
        // Each foreign key the revision leaves broken, at the last op that
        // touched its child or parent table.
        let brokenBefore = Set(before.brokenForeignKeyProblems().map(\.message))
        for problem in final.brokenForeignKeyProblems() where !brokenBefore.contains(problem.message) {
            let n = event.ops.lastIndex { $0.touches(problem.child) || $0.touches(problem.parent) } ?? event.ops.count - 1
            add("BK101", n, problem.message)
        }
        return found.sorted { $0.op < $1.op }
    }

    /// https://sqlite.org/datatype3.html#determination_of_column_affinity
    package static func affinity(_ type: String) -> String {
        let t = type.uppercased()
        if t.contains("INT") { return "INTEGER" }
        if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") { return "TEXT" }
        if t.contains("BLOB") || t.trimmingCharacters(in: .whitespaces).isEmpty { return "BLOB" }
        if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") { return "REAL" }
        return "NUMERIC"
    }
}

extension Schema {
    /// Foreign keys SQLite accepts in CREATE TABLE but that make every
    /// write to the child fail with "foreign key mismatch": the parent
    /// columns are neither the parent's PRIMARY KEY nor covered exactly by a
    /// UNIQUE constraint or unique index. In words that name the fix.
    package func brokenForeignKeys() -> [String] { brokenForeignKeyProblems().map(\.message) }

    /// The same, with the child and parent table of each.
    package func brokenForeignKeyProblems() -> [(child: String, parent: String, message: String)] {
        var problems: [(child: String, parent: String, message: String)] = []
        for child in tables.values.sorted(by: { $0.name < $1.name }) {
            for fk in child.constraints.foreignKeys {
                guard let parent = table(fk.referencedTable) else { continue } // a missing parent is SQLite's own "no such table" at write time
                let columns = fk.referencedColumns.isEmpty ? parent.constraints.primaryKey : fk.referencedColumns
                let childColumns = "\(child.name)(\(fk.columns.joined(separator: ", ")))"
                if fk.referencedColumns.isEmpty && parent.constraints.primaryKey.isEmpty {
                    problems.append((child.name, parent.name, "\(childColumns) references \(parent.name) without naming columns, and \(parent.name) has no PRIMARY KEY: "
                        + "name the referenced columns, or give \(parent.name) a primary key"))
                    continue
                }
                // Names compared as SQLite compares them: an index written with
                // backticks (drizzle) covers the same columns as one without.
                let wanted = Set(columns.map(SQL.nameKey))
                let keys: [[String?]] = ([parent.constraints.primaryKey] + parent.constraints.uniques).map { $0.map(SQL.nameKey) }
                    + indexes(on: parent.name).filter { $0.unique && $0.predicate == nil }.map { $0.terms.map(SQL.termColumnKey) }
                guard !keys.contains(where: { Set($0.compactMap { $0 }) == wanted && $0.count == wanted.count && !$0.contains(nil) }) else { continue }
                let parentColumns = "\(parent.name)(\(columns.joined(separator: ", ")))"
                problems.append((child.name, parent.name, "\(childColumns) references \(parentColumns), which is neither the PRIMARY KEY of \(parent.name) nor UNIQUE, "
                    + "so SQLite refuses every write to \(child.name) (\"foreign key mismatch\"): make \(parentColumns) UNIQUE "
                    + "(or its primary key), or reference the primary key of \(parent.name)"))
            }
        }
        return problems
    }
}

extension Op {
    /// Whether this op changes table `name` (as it is named before or after it).
    func touches(_ name: String) -> Bool {
        if case let .renameTable(_, to) = self, SQL.sameName(to, name) { return true }
        return tableName.map { SQL.sameName($0, name) } ?? false
    }
}
