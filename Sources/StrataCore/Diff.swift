/// Renames the diff cannot guess: without a hint, a renamed column is a drop
/// and an add (as in Alembic), which would lose its data.
package struct RenameHints: Hashable, Sendable {
    package var tables: [(from: String, to: String)]
    package var columns: [(table: String, from: String, to: String)]

    package init(tables: [(from: String, to: String)] = [], columns: [(table: String, from: String, to: String)] = []) {
        self.tables = tables
        self.columns = columns
    }

    package static func == (a: RenameHints, b: RenameHints) -> Bool {
        a.tables.map { [$0.from, $0.to] } == b.tables.map { [$0.from, $0.to] }
            && a.columns.map { [$0.table, $0.from, $0.to] } == b.columns.map { [$0.table, $0.from, $0.to] }
    }

    package func hash(into h: inout Hasher) {
        h.combine(tables.map { [$0.from, $0.to] })
        h.combine(columns.map { [$0.table, $0.from, $0.to] })
    }

    /// Parses `table.old=new` (a column) or `old=new` (a table). A name that
    /// holds `.` or `=` is written in double quotes, as in SQL (`"a.b"`, a
    /// `"` inside doubled): `t."special.column"=special_column`.
    package mutating func add(_ spec: String) throws {
        let usage = RenameError(hint: spec, reason: .malformed)
        guard let (left, right) = try? RenameHints.names(spec), left.count == 1 || left.count == 2, right.count == 1,
              !(left + right).contains(where: \.isEmpty) else { throw usage }
        if left.count == 1 { tables.append((from: left[0], to: right[0])) } else { columns.append((table: left[0], from: left[1], to: right[0])) }
    }

    /// The dotted names on each side of the `=`, unquoted.
    static func names(_ spec: String) throws -> ([String], [String]) {
        var sides: [[String]] = [[]]
        var name = "", quoted = false, wasQuoted = false
        var chars = Array(spec)[...]
        func endName() {
            sides[sides.count - 1].append(name)
            name = ""
            wasQuoted = false
        }
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { name.append("\""); chars.removeFirst() } else { quoted = false; wasQuoted = true }
                } else {
                    name.append(c)
                }
            } else if c == "\"" && name.isEmpty && !wasQuoted {
                quoted = true
            } else if c == "." {
                endName()
            } else if c == "=" && sides.count == 1 {
                endName()
                sides.append([])
            } else if wasQuoted || c == "\"" || c == "=" {
                throw SchemaError("misplaced character")
            } else {
                name.append(c)
            }
        }
        guard !quoted, sides.count == 2 else { throw SchemaError("unbalanced") }
        endName()
        return (sides[0], sides[1])
    }
}

/// A rename hint that cannot be used: the hint as given (`users.fullname=name`)
/// and what is wrong with it. The CLI names the flag it came from.
package struct RenameError: Error, CustomStringConvertible, Sendable, Equatable {
    package enum Reason: Sendable, Equatable {
        /// Not `TABLE.OLD=NEW` nor `OLD=NEW`.
        case malformed
        case noTableAtHead(String)
        case noTableInModels(String)
        case noColumnAtHead(String)
        case noColumnInModels(String)
    }

    package let hint: String
    package let reason: Reason

    /// What is wrong, without the hint: "there is no table nope at head".
    package var problem: String {
        switch reason {
        case .malformed:
            return "expected TABLE.OLD=NEW for a column or OLD=NEW for a table (a name with . or = in double quotes: TABLE.\"OLD.NAME\"=NEW)"
        case let .noTableAtHead(table): return "there is no table \(table) at head"
        case let .noTableInModels(table): return "the models file has no table \(table)"
        case let .noColumnAtHead(column): return "there is no column \(column) at head"
        case let .noColumnInModels(column): return "the models file has no column \(column)"
        }
    }

    package var description: String { "rename \(hint): \(problem)" }
}

extension RenameError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "schema.precondition" }
}

extension Schema {
    /// The ops that turn this schema into `target`, in an order that applies:
    /// renames; drops of changed triggers, views and indexes; new tables
    /// (referenced ones first); added and altered columns; constraint changes;
    /// dropped tables (children first); dropped columns and column order; then
    /// new virtual tables, indexes, views (dependencies first) and triggers.
    ///
    /// Deterministic: the same two schemas always give the same ops.
    package func diff(to target: Schema, renames: RenameHints = RenameHints()) throws -> [Op] {
        var cur = self
        var ops: [Op] = []
        func emit(_ op: Op) throws {
            try cur.apply(op)
            ops.append(op)
        }

        // Renames, so that everything after compares like with like.
        for r in renames.tables {
            guard cur.table(r.from) != nil else { throw RenameError(hint: "\(r.from)=\(r.to)", reason: .noTableAtHead(r.from)) }
            guard target.table(r.to) != nil else { throw RenameError(hint: "\(r.from)=\(r.to)", reason: .noTableInModels(r.to)) }
            try emit(.renameTable(from: r.from, to: r.to))
        }
        for r in renames.columns {
            let tableName = cur.table(r.table)?.name
                ?? renames.tables.first { SQL.sameName($0.from, r.table) }.map(\.to) ?? r.table
            guard let t = cur.table(tableName), t.column(r.from) != nil else {
                throw RenameError(hint: "\(r.table).\(r.from)=\(r.to)", reason: .noColumnAtHead("\(r.table).\(r.from)"))
            }
            guard target.table(tableName)?.column(r.to) != nil else {
                throw RenameError(hint: "\(r.table).\(r.from)=\(r.to)", reason: .noColumnInModels("\(tableName).\(r.to)"))
            }
            try emit(.renameColumn(table: t.name, from: r.from, to: r.to))
        }

        // A name that changes only in case is a rename SQLite itself would not
        // see; one the diff never needs told about.
        for t in Schema.byName(target.tables.values) {
            if let have = cur.table(t.name), have.name != t.name { try emit(.renameTable(from: have.name, to: t.name)) }
        }
        for want in Schema.byName(target.tables.values) {
            guard let have = cur.table(want.name) else { continue }
            for c in want.columns {
                if let existing = have.column(c.name), existing.name != c.name {
                    try emit(.renameColumn(table: want.name, from: existing.name, to: c.name))
                }
            }
        }

        let droppedTables = Set(cur.tables.keys).subtracting(target.tables.keys)
        let changedViews = Set(cur.views.keys.filter { target.views[$0] != cur.views[$0] })

        // Triggers that go or change (those of dropped tables go with them;
        // those of changed views must go first, as SQLite drops them with the view).
        for tr in cur.triggersByName where target.triggers[SQLName(tr.name)] != tr
            || changedViews.contains(SQLName(tr.table)) {
            if droppedTables.contains(SQLName(tr.table)) && target.triggers[SQLName(tr.name)] == nil { continue }
            try emit(.dropTrigger(tr))
        }
        for v in cur.viewsInDependencyOrder.reversed() where changedViews.contains(SQLName(v.name)) {
            try emit(.dropView(v))
        }
        for i in cur.indexesByName
        where target.indexes[SQLName(i.name)] != i {
            if droppedTables.contains(SQLName(i.table)) && target.indexes[SQLName(i.name)] == nil { continue }
            try emit(.dropIndex(i))
        }
        // A virtual table that goes is dropped (one that changes is altered below).
        for v in cur.virtualTablesByName where target.virtualTables[SQLName(v.name)] == nil {
            try emit(.dropVirtualTable(v))
        }

        // New tables, referenced ones first; their indexes travel with them.
        for t in target.tablesInDependencyOrder where cur.table(t.name) == nil {
            let indexes = target.indexes(on: t.name).filter { cur.indexes[SQLName($0.name)] == nil && !cur.nameIsTaken($0.name) }
            try emit(.createTable(t, indexes: indexes, triggers: []))
        }

        let kept = target.tablesInDependencyOrder.filter { cur.table($0.name) != nil && !droppedTables.contains(SQLName($0.name)) }
        for want in kept {
            for c in want.columns {
                let have = cur.table(want.name)!
                if let existing = have.column(c.name) {
                    if existing != c { try emit(.alterColumn(table: have.name, from: existing, to: c)) }
                } else {
                    try emit(.addColumn(table: have.name, column: c, position: have.columns.count))
                }
            }
        }
        for want in kept {
            let have = cur.table(want.name)!
            if have.constraints != want.constraints {
                try emit(.alterConstraints(table: have.name, from: have.constraints, to: want.constraints))
            }
        }
        // Dropped tables, children before the tables they reference, and
        // before dropped columns: a column that a dropped table's foreign key
        // references can go only once that table has.
        for t in cur.tablesInDependencyOrder.reversed() where droppedTables.contains(SQLName(t.name)) {
            try emit(.dropTable(t, indexes: cur.indexes(on: t.name), triggers: cur.triggers(on: t.name)))
        }
        for want in kept {
            while let have = cur.table(want.name),
                  let n = have.columns.lastIndex(where: { want.column($0.name) == nil }) {
                try emit(.dropColumn(table: have.name, column: have.columns[n], position: n))
            }
            let have = cur.table(want.name)!
            let order = have.columns.map(\.name)
            let wanted = want.columns.map(\.name)
            if order.map(SQL.nameKey) != wanted.map(SQL.nameKey) {
                try emit(.reorderColumns(table: have.name, from: order, to: wanted))
            }
        }

        for v in target.virtualTablesByName where cur.virtualTables[SQLName(v.name)] != v {
            if let old = cur.virtualTables[SQLName(v.name)] {
                try emit(.alterVirtualTable(from: old, to: v))
            } else {
                try emit(.createVirtualTable(v))
            }
        }

        for i in target.indexesByName
        where cur.indexes[SQLName(i.name)] == nil {
            try emit(.createIndex(i))
        }
        for v in target.viewsInDependencyOrder where cur.views[SQLName(v.name)] == nil {
            try emit(.createView(v))
        }
        for tr in target.triggersByName where cur.triggers[SQLName(tr.name)] == nil {
            try emit(.createTrigger(tr))
        }

        guard cur == target else {
            throw SchemaError("internal error: the diff did not reach the target schema; please report this with the models file")
        }
        return ops
    }
}

extension Schema {
    /// What leads from this schema to `other`, one line per op (`check`'s
    /// drift, a failed proof); empty when they are equal.
    package func differences(to other: Schema) -> [String] {
        guard self != other else { return [] }
        return (try? diff(to: other))?.map(\.summary) ?? ["the schema differs in a way strata cannot describe"]
    }
}
