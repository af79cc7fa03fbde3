import Foundation

/// One column of a table, as SQLite knows it.
package struct Column: Hashable, Sendable {
    package var name: String
    /// The declared type exactly as written (`VARCHAR (50)` stays so), "" when
    /// none. Compared ignoring whitespace, so that neither a cosmetic edit
    /// of the models file nor a log written when strata normalised types
    /// makes a difference (and a table rebuild).
    package var type: String { didSet { typeKey = Column.typeKey(type) } }
    /// `type` with its whitespace normalised: what equality compares.
    package private(set) var typeKey: String
    package var notNull: Bool
    /// The default's SQL expression text, normalised (`0` and `'0'` differ).
    package var defaultValue: String?
    /// The collating sequence, uppercased; nil means SQLite's default (BINARY).
    package var collation: String?
    /// `GENERATED ALWAYS AS (expression) VIRTUAL|STORED`; nil for a stored value.
    package var generated: Generated?

    package init(name: String, type: String = "", notNull: Bool = false, defaultValue: String? = nil, collation: String? = nil,
                generated: Generated? = nil) {
        self.name = name
        self.type = type
        self.typeKey = Column.typeKey(type)
        self.notNull = notNull
        self.defaultValue = defaultValue
        self.collation = collation
        self.generated = generated
    }
}

extension Column {
    static func typeKey(_ type: String) -> String { SQL.normalize(type) }

    package static func == (a: Column, b: Column) -> Bool {
        a.name == b.name && a.typeKey == b.typeKey && a.notNull == b.notNull && SQL.sameFragment(a.defaultValue, b.defaultValue)
            && a.collation == b.collation && a.generated == b.generated
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(typeKey)
        hasher.combine(notNull)
        hasher.combine(defaultValue.map(SQL.key))
        hasher.combine(collation)
        hasher.combine(generated)
    }
}

/// A generated column's definition: SQLite computes the value from the
/// other columns of the row, on read (VIRTUAL) or on write (STORED).
package struct Generated: Hashable, Sendable {
    /// The normalised expression, without `AS (` and `)`.
    package var expression: String
    package var stored: Bool

    package init(_ expression: String, stored: Bool = false) {
        self.expression = expression
        self.stored = stored
    }
}

package struct ForeignKey: Hashable, Sendable {
    package var columns: [String]
    package var referencedTable: String
    /// Empty when the constraint names the parent's primary key implicitly.
    package var referencedColumns: [String]
    package var onUpdate: String
    package var onDelete: String
    /// `DEFERRABLE INITIALLY DEFERRED`: checked at COMMIT instead of at each
    /// statement. SQLite treats every other deferrability clause as immediate.
    package var deferred: Bool

    package init(columns: [String], referencedTable: String, referencedColumns: [String] = [],
                onUpdate: String = "NO ACTION", onDelete: String = "NO ACTION", deferred: Bool = false) {
        self.columns = columns
        self.referencedTable = referencedTable
        self.referencedColumns = referencedColumns
        self.onUpdate = onUpdate
        self.onDelete = onDelete
        self.deferred = deferred
    }
}

/// A CHECK constraint. Its name, when given, is what SQLite reports when the
/// check fails ("CHECK constraint failed: ck_age"), so it is kept.
package struct Check: Hashable, Sendable, ExpressibleByStringLiteral {
    package var name: String?
    /// The normalised expression, without `CHECK (` and `)`.
    package var expression: String

    package init(_ expression: String, name: String? = nil) {
        self.name = name
        self.expression = expression
    }

    package init(stringLiteral expression: String) { self.init(expression) }
}

/// Everything about a table that is not a column. Any change here needs a
/// table rebuild in SQLite.
package struct TableConstraints: Hashable, Sendable {
    package var primaryKey: [String]
    package var autoincrement: Bool
    /// UNIQUE constraints (inline or table-level: SQLite does not tell them apart), sorted.
    package var uniques: [[String]]
    /// Sorted, so that declaration order (which PRAGMA reverses) does not matter.
    package var foreignKeys: [ForeignKey]
    /// CHECK constraints (column-level ones too), in declaration order.
    package var checks: [Check]
    package var withoutRowid: Bool
    package var strict: Bool

    package init(primaryKey: [String] = [], autoincrement: Bool = false, uniques: [[String]] = [],
                foreignKeys: [ForeignKey] = [], checks: [Check] = [], withoutRowid: Bool = false, strict: Bool = false) {
        self.primaryKey = primaryKey
        self.autoincrement = autoincrement
        self.uniques = uniques
        self.foreignKeys = foreignKeys
        self.checks = checks
        self.withoutRowid = withoutRowid
        self.strict = strict
        normalizeOrder()
    }

    /// Puts unordered parts in their canonical order.
    package mutating func normalizeOrder() {
        uniques.sort { $0.joined(separator: "\u{1}").lowercased() < $1.joined(separator: "\u{1}").lowercased() }
        foreignKeys.sort { ForeignKey.sortKey($0) < ForeignKey.sortKey($1) }
    }
}

extension ForeignKey {
    static func sortKey(_ fk: ForeignKey) -> String {
        ([fk.columns.joined(separator: ","), fk.referencedTable, fk.referencedColumns.joined(separator: ","),
          fk.onUpdate, fk.onDelete, fk.deferred ? "deferred" : ""]).joined(separator: "\u{1}").lowercased()
    }
}

package struct Table: Hashable, Sendable {
    package var name: String
    package var columns: [Column]
    package var constraints: TableConstraints

    package init(name: String, columns: [Column], constraints: TableConstraints = TableConstraints()) {
        self.name = name
        self.columns = columns
        self.constraints = constraints
    }

    package func columnIndex(_ name: String) -> Int? {
        columns.firstIndex { SQL.sameName($0.name, name) }
    }

    package func column(_ name: String) -> Column? { columnIndex(name).map { columns[$0] } }

    /// Names of the columns that constraints of this table refer to by name.
    var constrainedColumns: Set<String> {
        var names = Set(constraints.primaryKey.map { SQL.nameKey($0) })
        for u in constraints.uniques { names.formUnion(u.map { SQL.nameKey($0) }) }
        for fk in constraints.foreignKeys { names.formUnion(fk.columns.map { SQL.nameKey($0) }) }
        return names
    }
}

package struct Index: Hashable, Sendable {
    package var name: String
    package var table: String
    package var unique: Bool
    /// Indexed terms, normalised: `email`, `lower(name)`, `created_at DESC`.
    package var terms: [String]
    /// The partial index's WHERE expression, normalised.
    package var predicate: String?

    package init(name: String, table: String, unique: Bool = false, terms: [String], predicate: String? = nil) {
        self.name = name
        self.table = table
        self.unique = unique
        self.terms = terms
        self.predicate = predicate
    }
}

package struct View: Hashable, Sendable {
    package var name: String
    /// The whole normalised `CREATE VIEW` statement.
    package var sql: String

    package init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }
}

/// A virtual table (`CREATE VIRTUAL TABLE t USING fts5(...)`). Its module
/// owns its storage (the shadow tables, which strata leaves to it), so it is
/// kept as its statement and changed only by dropping and creating it.
package struct VirtualTable: Hashable, Sendable {
    package var name: String
    /// The whole normalised `CREATE VIRTUAL TABLE` statement.
    package var sql: String
    /// Its visible columns, as the module declares them: what a change of
    /// definition copies across.
    package var columns: [String]

    package init(name: String, sql: String, columns: [String] = []) {
        self.name = name
        self.sql = sql
        self.columns = columns
    }

    /// The module named after `USING`, lowercased.
    package var module: String? {
        guard let tokens = try? SQL.tokenize(sql), let using = tokens.firstIndex(where: { $0.isKeyword("USING") }),
              using + 1 < tokens.count else { return nil }
        return tokens[using + 1].identifier.map(SQL.nameKey)
    }
}

package struct Trigger: Hashable, Sendable {
    package var name: String
    package var table: String
    /// The whole normalised `CREATE TRIGGER` statement.
    package var sql: String

    package init(name: String, table: String, sql: String) {
        self.name = name
        self.table = table
        self.sql = sql
    }
}

/// A database schema: the state that events fold into. Keys are lowercased
/// names, because SQLite compares identifiers case-insensitively.
package struct Schema: Hashable, Sendable {
    package var tables: [SQLName: Table] = [:]
    package var indexes: [SQLName: Index] = [:]
    package var views: [SQLName: View] = [:]
    package var triggers: [SQLName: Trigger] = [:]
    package var virtualTables: [SQLName: VirtualTable] = [:]

    package init() {}

    package static let empty = Schema()

    package var isEmpty: Bool { tables.isEmpty && indexes.isEmpty && views.isEmpty && triggers.isEmpty && virtualTables.isEmpty }

    package func table(_ name: String) -> Table? { tables[SQLName(name)] }

    /// A table's indexes in encoding order: they are written into events
    /// (`createTable`, `dropTable`), so this order is part of their ids.
    package func indexes(on table: String) -> [Index] {
        Schema.inEncodingOrder(indexes.values.filter { SQL.sameName($0.table, table) })
    }

    /// A table's triggers in encoding order (written into events, like its indexes).
    package func triggers(on table: String) -> [Trigger] {
        Schema.inEncodingOrder(triggers.values.filter { SQL.sameName($0.table, table) })
    }

    // MARK: - The two name orders

    /// Name order as SQLite compares names (case-insensitive): the order of
    /// DDL scripts, diffs and plans. Free to change: nothing hashed depends on it.
    package static func byName<S: Sequence>(_ objects: S) -> [S.Element] where S.Element: NamedObject {
        objects.sorted { SQL.nameKey($0.name) < SQL.nameKey($1.name) }
    }

    /// Name order by the bytes as written (case-sensitive): the order of
    /// objects inside the canonical encoding. Changing it would change event
    /// ids, which the golden encoding test guards.
    package static func inEncodingOrder<S: Sequence>(_ objects: S) -> [S.Element] where S.Element: NamedObject {
        objects.sorted { $0.name < $1.name }
    }

    /// Every index, in name order.
    package var indexesByName: [Index] { Schema.byName(indexes.values) }

    /// Tables ordered so that a table comes after the tables its foreign keys
    /// reference (cycles are broken by name order).
    package var tablesInDependencyOrder: [Table] {
        let sorted = Schema.byName(tables.values)
        var placed = Set<SQLName>()
        var result: [Table] = []
        var visiting = Set<SQLName>()
        func visit(_ t: Table) {
            let key = SQLName(t.name)
            if placed.contains(key) || visiting.contains(key) { return }
            visiting.insert(key)
            for fk in t.constraints.foreignKeys {
                if let parent = tables[SQLName(fk.referencedTable)] { visit(parent) }
            }
            visiting.remove(key)
            placed.insert(key)
            result.append(t)
        }
        sorted.forEach(visit)
        return result
    }

    /// Views ordered so that a view comes after the views it reads.
    package var viewsInDependencyOrder: [View] {
        let sorted = Schema.byName(views.values)
        var placed = Set<SQLName>()
        var visiting = Set<SQLName>()
        var result: [View] = []
        func visit(_ v: View) {
            let key = SQLName(v.name)
            if placed.contains(key) || visiting.contains(key) { return }
            visiting.insert(key)
            for other in sorted where SQLName(other.name) != key && SQL.mentions(bodyOf: v, name: other.name) {
                visit(other)
            }
            visiting.remove(key)
            placed.insert(key)
            result.append(v)
        }
        sorted.forEach(visit)
        return result
    }

    /// What reads table `name` from outside it: the views that select from
    /// it, directly or through other views (in dependency order), and the
    /// triggers of other tables whose statements name it or one of those views.
    package func dependents(ofTable name: String) -> (views: [View], triggers: [Trigger]) {
        var names: Set<String> = [SQL.nameKey(name)]
        var views: [View] = []
        for v in viewsInDependencyOrder where names.contains(where: { SQL.mentions(bodyOf: v, name: $0) }) {
            views.append(v)
            names.insert(SQL.nameKey(v.name))
        }
        let triggers = triggersByName.filter { t in
            !SQL.sameName(t.table, name) && names.contains { SQL.mentions(bodyOf: t, name: $0) }
        }
        return (views, triggers)
    }

    /// Every trigger, in name order.
    package var triggersByName: [Trigger] { Schema.byName(triggers.values) }

    /// Whether any name (table, index or view) is taken; they share SQLite's namespace.
    func nameIsTaken(_ name: String) -> Bool {
        let key = SQLName(name)
        return tables[key] != nil || indexes[key] != nil || views[key] != nil || virtualTables[key] != nil
    }

    /// Every virtual table, in name order.
    package var virtualTablesByName: [VirtualTable] { Schema.byName(virtualTables.values) }
}

extension SQL {
    /// Whether a view's statement names `name` anywhere after its own name.
    static func mentions(bodyOf view: View, name: String) -> Bool {
        mentions(view.sql, after: "AS", name: name)
    }

    /// Whether a trigger's statement names `name` in its table clause or body.
    static func mentions(bodyOf trigger: Trigger, name: String) -> Bool {
        mentions(trigger.sql, after: "ON", name: name)
    }

    private static func mentions(_ statement: String, after keyword: String, name: String) -> Bool {
        guard let tokens = try? tokenize(statement) else { return false }
        guard let start = tokens.firstIndex(where: { $0.isKeyword(keyword) }) else { return false }
        return tokens[start...].contains { $0.identifier.map(SQL.nameKey) == SQL.nameKey(name) }
    }
}

/// A schema object with a name (tables, indexes, views, triggers, virtual
/// tables), for the two name orders.
package protocol NamedObject {
    var name: String { get }
}

extension Table: NamedObject {}
extension Index: NamedObject {}
extension View: NamedObject {}
extension Trigger: NamedObject {}
extension VirtualTable: NamedObject {}
