import StrataCore

/// Where one op of a run keeps the data it destroys in the target database,
/// and where its inverse finds it, so that a downgrade brings back the rows
/// and values an upgrade removed.
///
/// On the way up, each op that destroys data fills a stash table named after
/// its event and its place in the event (`strata_trash_<event>_u2`);
/// `strata_trash` lists the stashes. On the way down, the inverse op
/// restores from that stash and drops it. Names are deterministic, so the
/// plan needs no look at the database: a restore first creates its stash if
/// missing (empty), which makes it a no-op where nothing was kept.
///
/// The way down keeps what it destroys of what the way up created (a
/// table's rows, a column's values) in stashes named `..._d2`, and an
/// upgrade past the same event brings them back, so that down and up again
/// loses nothing. An upgrade restores only the stashes the database holds
/// (the plan is told which, `MigrationContext.keptByDowngrades`), so an
/// upgrade of a database no downgrade touched carries no restoring
/// statements.
package struct TrashSlots: Sendable, Hashable {
    /// The stash for what this op destroys (nil: keep nothing).
    package var keep: String?
    /// The stash the op of the way up filled, which this inverse restores;
    /// on the way up, the stash a downgrade filled, which this op restores.
    package var restore: String?
    /// On the way down, the stash for what an inverse destroys of what the
    /// way up created (a dropped table's rows, a dropped column's values).
    package var keepCreated: String?
    /// An SQL literal for a NOT NULL column's rows that nothing restores.
    package var fill: String?
    package var event: String
    package var direction: Direction
    package var op: Int
    package var now: Int64

    package static func name(event: String, op: Int, down: Bool = false) -> String { "strata_trash_\(event.prefix(16))_\(down ? "d" : "u")\(op)" }

    /// The slots of op `index` of a step of `count` ops.
    /// `keptByDowngrades`: the down stashes the database holds.
    package init(event: String, direction: Direction, op index: Int, of count: Int, keep: Bool, fill: String?, now: Int64,
                keptByDowngrades: Set<String> = []) {
        self.event = event
        self.direction = direction
        self.op = index
        self.now = now
        self.fill = fill
        // The way down runs the inverted ops newest first.
        self.keep = direction == .up && keep ? TrashSlots.name(event: event, op: index) : nil
        self.restore = direction == .down ? TrashSlots.name(event: event, op: count - 1 - index) : nil
        self.keepCreated = direction == .down && keep ? TrashSlots.name(event: event, op: count - 1 - index, down: true) : nil
        if direction == .up, keptByDowngrades.contains(TrashSlots.name(event: event, op: index, down: true)) {
            self.restore = TrashSlots.name(event: event, op: index, down: true)
        }
    }
}

/// What a plan says about kept data, for the applier to report.
package enum TrashNote: Hashable, Sendable {
    case keeps(stash: String, what: String)
    case restores(stash: String, what: String)
}

enum Trash {
    static let table = """
        CREATE TABLE IF NOT EXISTS strata_trash (
            stash TEXT PRIMARY KEY,
            event TEXT NOT NULL,
            direction TEXT NOT NULL,
            op INTEGER NOT NULL,
            what TEXT NOT NULL,
            rows INTEGER NOT NULL,
            sequence INTEGER,
            kept_at TEXT NOT NULL
        )
        """

    /// The expressions that identify a row of `t` across the run: its
    /// primary key, or its rowid for a table without one (an INTEGER
    /// PRIMARY KEY is the rowid).
    static func rowKey(_ t: Table) -> [String] {
        if t.constraints.withoutRowid { return t.constraints.primaryKey.map(DDL.q) }
        if t.constraints.primaryKey.isEmpty || isRowidAlias(t) { return ["rowid"] }
        return t.constraints.primaryKey.map(DDL.q)
    }

    static func isRowidAlias(_ t: Table) -> Bool {
        guard !t.constraints.withoutRowid, t.constraints.primaryKey.count == 1, let c = t.column(t.constraints.primaryKey[0]) else { return false }
        return c.type.trimmingCharacters(in: .whitespaces).uppercased() == "INTEGER"
    }

    static func keyColumns(_ t: Table) -> [String] { rowKey(t).indices.map { "strata_key_\($0)" } }

    /// The key columns as a stash declares them: with the key's own type,
    /// so that matching a stash row to a table row can use an index (an
    /// untyped column compared with an INTEGER rowid cannot). The values
    /// came from columns of that type, so none is converted.
    static func keyDefinitions(_ t: Table) -> [String] {
        zip(keyColumns(t), rowKey(t)).map { name, key in
            let type = key == "rowid" ? "INTEGER" : t.column(SQL.unquote(key))?.type ?? ""
            return type.isEmpty ? name : "\(name) \(type)"
        }
    }

    /// `s.strata_key_0 IS t.id AND ...`
    static func match(_ t: Table, stash alias: String, table tableRef: String) -> String {
        zip(keyColumns(t), rowKey(t)).map { "\(alias).\($0) IS \(tableRef).\($1)" }.joined(separator: " AND ")
    }

    static func record(_ slots: TrashSlots, stash: String, what: String, sequenceOf table: String? = nil) -> String {
        let sequence = table.map { "(SELECT seq FROM sqlite_sequence WHERE name = \(SQL.literal($0)))" } ?? "NULL"
        return "INSERT OR REPLACE INTO strata_trash (stash, event, direction, op, what, rows, sequence, kept_at) VALUES ("
            + "\(SQL.literal(stash)), \(SQL.literal(slots.event)), \(SQL.literal(slots.direction.rawValue)), \(slots.op), \(SQL.literal(what)), "
            + "(SELECT count(*) FROM \(DDL.q(stash))), \(sequence), \(SQL.literal(Timestamp.iso8601(slots.now))))"
    }

    static func discard(_ stash: String, label: String) -> [PlannedStatement] {
        [PlannedStatement("DROP TABLE \(DDL.q(stash))", label),
         PlannedStatement("DELETE FROM strata_trash WHERE stash = \(SQL.literal(stash))", label)]
    }

    /// A new stash (a later run past the same op replaces the old one);
    /// `columns` are column definitions.
    static func create(_ stash: String, columns: [String], label: String, note: TrashNote?, ifMissing: Bool = false) -> [PlannedStatement] {
        let create = "CREATE TABLE \(ifMissing ? "IF NOT EXISTS " : "")\(DDL.q(stash)) (\(columns.joined(separator: ", ")))"
        var first = PlannedStatement(ifMissing ? create : "DROP TABLE IF EXISTS \(DDL.q(stash))", label)
        first.trash = note
        return ifMissing ? [first] : [first, PlannedStatement(create, label)]
    }

    // MARK: - A dropped column

    static func columnStashColumns(_ t: Table, _ c: Column) -> [String] { keyDefinitions(t) + [DDL.q(c.name)] }

    /// `reading` are the key and value expressions over the table as it
    /// physically is (a compacted run reads a table not rebuilt yet); with
    /// `empty`, the stash is made and listed with no rows (a table created
    /// in the same run has none to keep).
    static func keepColumn(_ t: Table, _ c: Column, _ slots: TrashSlots, stash: String, reading: [String]? = nil, empty: Bool = false) -> [PlannedStatement] {
        let what = "\(t.name).\(c.name) (dropped column)"
        let label = "keep the values of \(t.name).\(c.name)"
        let copy = PlannedStatement("INSERT INTO \(DDL.q(stash)) SELECT \((reading ?? rowKey(t) + [DDL.q(c.name)]).joined(separator: ", ")) FROM \(DDL.q(t.name))", label)
        return create(stash, columns: columnStashColumns(t, c), label: label, note: .keeps(stash: stash, what: what))
            + (empty ? [] : [copy]) + [PlannedStatement(record(slots, stash: stash, what: what), label)]
    }

    /// Brings the kept values back into rows that have the same key; rows
    /// with nothing kept keep the default (or NULL).
    static func restoreColumn(_ t: Table, _ c: Column, stash: String) -> [PlannedStatement] {
        let label = "bring back the values of \(t.name).\(c.name)"
        return [PlannedStatement("UPDATE \(DDL.q(t.name)) SET \(DDL.q(c.name)) = s.\(DDL.q(c.name)) FROM \(DDL.q(stash)) AS s WHERE \(match(t, stash: "s", table: DDL.q(t.name)))", label)]
            + discard(stash, label: label)
    }

    /// The stash must exist for the plan's later statements to read it.
    static func openColumnStash(_ t: Table, _ c: Column, stash: String) -> [PlannedStatement] {
        create(stash, columns: columnStashColumns(t, c), label: "bring back the values of \(t.name).\(c.name)",
               note: .restores(stash: stash, what: "\(t.name).\(c.name)"), ifMissing: true)
    }

    // MARK: - A dropped table

    /// A rowid table keeps its rowids, unless its INTEGER PRIMARY KEY is the rowid.
    static func tableStashColumns(_ t: Table) -> [String] {
        (t.constraints.withoutRowid || isRowidAlias(t) ? [] : ["strata_rowid"]) + t.columns.filter { $0.generated == nil }.map(\.name)
    }

    /// With `empty`: a table never written (created in the same run) has
    /// no rows and no AUTOINCREMENT counter (NULL, as event by event).
    static func keepTable(_ t: Table, _ slots: TrashSlots, stash: String, empty: Bool = false) -> [PlannedStatement] {
        let what = "table \(t.name) (dropped)"
        let label = "keep the rows of \(t.name)"
        let values = (t.constraints.withoutRowid || isRowidAlias(t) ? [] : ["rowid"]) + t.columns.filter { $0.generated == nil }.map { DDL.q($0.name) }
        let copy = PlannedStatement("INSERT INTO \(DDL.q(stash)) SELECT \(values.joined(separator: ", ")) FROM \(DDL.q(t.name))", label)
        return create(stash, columns: tableStashColumns(t).map(DDL.q), label: label, note: .keeps(stash: stash, what: what))
            + (empty ? [] : [copy])
            + [PlannedStatement(record(slots, stash: stash, what: what, sequenceOf: t.constraints.autoincrement && !empty ? t.name : nil), label)]
    }

    /// The rows with their rowids, and the AUTOINCREMENT counter as it was.
    static func restoreTable(_ t: Table, stash: String) -> [PlannedStatement] {
        let label = "bring back the rows of \(t.name)"
        var open = PlannedStatement("CREATE TABLE IF NOT EXISTS \(DDL.q(stash)) (\(tableStashColumns(t).map(DDL.q).joined(separator: ", ")))", label)
        open.trash = .restores(stash: stash, what: "table \(t.name)")
        let columns = t.columns.filter { $0.generated == nil }.map { DDL.q($0.name) }
        let rowid = t.constraints.withoutRowid || isRowidAlias(t) ? [] : ["rowid"]
        var plan = [open, PlannedStatement("INSERT INTO \(DDL.q(t.name)) (\((rowid + columns).joined(separator: ", "))) SELECT "
            + "\(((rowid.isEmpty ? [] : ["strata_rowid"]) + columns).joined(separator: ", ")) FROM \(DDL.q(stash))", label)]
        if t.constraints.autoincrement {
            let kept = "(SELECT sequence FROM strata_trash WHERE stash = \(SQL.literal(stash)))"
            plan.append(PlannedStatement("UPDATE sqlite_sequence SET seq = max(seq, \(kept)) WHERE name = \(SQL.literal(t.name)) AND \(kept) IS NOT NULL", label))
            plan.append(PlannedStatement("INSERT INTO sqlite_sequence (name, seq) SELECT \(SQL.literal(t.name)), \(kept) WHERE \(kept) IS NOT NULL "
                + "AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = \(SQL.literal(t.name)))", label))
        }
        return plan + discard(stash, label: label)
    }

    // MARK: - Values an alter rewrites

    /// An alter rewrites stored values when the column's type affinity
    /// changes (TEXT '007' into an INTEGER column is 7) or a NOT NULL with a
    /// default replaces its NULLs.
    static func alterRewrites(from old: Column, to new: Column) -> Bool {
        guard old.generated == nil, new.generated == nil else { return false }
        if Lint.affinity(old.type) != Lint.affinity(new.type) { return true }
        return new.notNull && !old.notNull && new.defaultValue != nil && new.defaultValue != "NULL"
    }

    static func alterStashColumns(_ t: Table) -> [String] { keyDefinitions(t) + ["old", "new"] }

    /// On the way up, around the rebuild of an alter that rewrites values:
    /// every row's value before it, what the rebuild made of each after it,
    /// and the rows it did not change let go.
    static func keepAlter(_ t: Table, _ old: Column, _ new: Column, _ slots: TrashSlots, stash: String, rebuild: [PlannedStatement],
                          reading: [String]? = nil, empty: Bool = false, finished: Bool = true) -> [PlannedStatement] {
        let after = Table(name: t.name, columns: t.columns.map { SQL.sameName($0.name, old.name) ? new : $0 }, constraints: t.constraints)
        let (label, what) = keepAlterWords(t, new)
        let k = DDL.q(stash)
        let opened = create(stash, columns: alterStashColumns(t), label: label, note: .keeps(stash: stash, what: what))
        if empty { return opened + rebuild + [PlannedStatement(record(slots, stash: stash, what: what), label)] }
        return opened
            + [PlannedStatement("INSERT INTO \(k) SELECT \((reading ?? rowKey(t) + [DDL.q(old.name)]).joined(separator: ", ")), NULL FROM \(DDL.q(t.name))", label)]
            + rebuild
            + (finished ? finishKeepAlter(after, column: new.name, slots, stash: stash, what: what, label: label) : [])
    }

    static func keepAlterWords(_ t: Table, _ new: Column) -> (label: String, what: String) {
        ("keep the values of \(t.name).\(new.name) that the alter rewrites", "\(t.name).\(new.name) (values the alter rewrote)")
    }

    /// After the table holds what the alter made of the kept values: each
    /// kept row gets its new value, the rows the alter did not change are
    /// let go, and the stash is listed. `t` is the table as it is then
    /// (a compacted run finishes after one rebuild that may rename columns).
    static func finishKeepAlter(_ t: Table, column: String, _ slots: TrashSlots, stash: String, what: String, label: String) -> [PlannedStatement] {
        let k = DDL.q(stash)
        return [PlannedStatement("UPDATE \(k) SET new = quote(t.\(DDL.q(column))) FROM \(DDL.q(t.name)) AS t WHERE \(match(t, stash: k, table: "t"))", label),
                PlannedStatement("DELETE FROM \(k) WHERE new IS quote(old)", label),
                PlannedStatement(record(slots, stash: stash, what: what), label)]
    }

    /// On the way down, around the inverse alter's rebuild: the kept rows
    /// that still hold what the alter made of them (the others changed
    /// since and are let go) get their old values back after it.
    static func restoreAlter(_ t: Table, _ old: Column, _ new: Column, stash: String, rebuild: [PlannedStatement]) -> [PlannedStatement] {
        let after = Table(name: t.name, columns: t.columns.map { SQL.sameName($0.name, old.name) ? new : $0 }, constraints: t.constraints)
        let label = "bring back the values of \(t.name).\(new.name) that the alter rewrote"
        let r = DDL.q(stash)
        var open = PlannedStatement("CREATE TABLE IF NOT EXISTS \(r) (\(alterStashColumns(t).joined(separator: ", ")))", label)
        open.trash = .restores(stash: stash, what: "\(t.name).\(new.name)")
        return [open, PlannedStatement("DELETE FROM \(r) WHERE NOT EXISTS (SELECT 1 FROM \(DDL.q(t.name)) AS t WHERE \(match(t, stash: r, table: "t")) "
            + "AND quote(t.\(DDL.q(old.name))) IS \(r).new)", label)]
            + rebuild
            + [PlannedStatement("UPDATE \(DDL.q(t.name)) SET \(DDL.q(new.name)) = s.old FROM \(r) AS s WHERE \(match(after, stash: "s", table: DDL.q(t.name)))", label)]
            + discard(stash, label: label)
    }
}

/// What a run kept of the data it destroyed, and what it could not bring back.
package struct TrashReport: Sendable, Equatable {
    package struct Kept: Sendable, Equatable {
        package let what: String
        package let rows: Int
        package let event: String

        package init(what: String, rows: Int, event: String) {
            self.what = what
            self.rows = rows
            self.event = event
        }
    }
    package var kept: [Kept] = []
    /// Restores that found nothing kept (data dropped with keeping off, or purged).
    package var notKept: [String] = []

    package init() {}
}

/// One stash of a database, as `strata trash` lists it.
package struct Stash: Sendable, Equatable {
    package let stash: String
    package let event: String
    package let direction: Direction
    package let what: String
    package let rows: Int
    package let bytes: Int?
    package let keptAt: String
}

extension TargetDatabase {
    package func stashes() throws -> [Stash] {
        guard try connection.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'strata_trash'")?.int == 1 else { return [] }
        // dbstat exists where SQLite was built with it; the size is left out otherwise.
        let sizes = (try? connection.query("SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'strata\\_trash\\_%' ESCAPE '\\' GROUP BY name")) ?? []
        var bytes: [String: Int] = [:]
        for row in sizes { if let name = row[0].string, let n = row[1].int { bytes[name] = Int(n) } }
        return try connection.query("SELECT stash, event, direction, what, rows, kept_at FROM strata_trash WHERE rows > 0 ORDER BY kept_at, stash").map { r in
            Stash(stash: r[0].string ?? "", event: r[1].string ?? "", direction: r[2].string == "down" ? .down : .up, what: r[3].string ?? "",
                  rows: Int(r[4].int ?? 0), bytes: bytes[r[0].string ?? ""], keptAt: r[5].string ?? "")
        }
    }

    /// Drops what is kept for `event` (every stash when nil).
    @discardableResult
    package func purgeTrash(event: String?) throws -> [Stash] {
        let all = try connection.query("SELECT stash, event FROM strata_trash").compactMap { r in r[0].string.map { ($0, r[1].string ?? "") } }
        let listed = try stashes()
        let purged = listed.filter { event == nil || $0.event == event }
        // Empty stashes go with any purge of their event, unlisted.
        let empty = all.filter { s in !listed.contains { $0.stash == s.0 } && (event == nil || s.1 == event) }.map(\.0)
        guard !purged.isEmpty || !empty.isEmpty else { return [] }
        try connection.transaction {
            for stash in purged.map(\.stash) + empty {
                try connection.execute("DROP TABLE IF EXISTS \(DDL.q(stash))")
                try connection.execute("DELETE FROM strata_trash WHERE stash = \(SQL.literal(stash))")
            }
        }
        return purged
    }
}
