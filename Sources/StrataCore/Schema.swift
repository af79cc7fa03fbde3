import Foundation

/// One column of a table, as SQLite knows it.
public struct Column: Hashable, Sendable {
    public var name: String
    /// The declared type exactly as written (`VARCHAR (50)` stays so), "" when
    /// none. Compared ignoring whitespace, so that neither a cosmetic edit
    /// of the models file nor a log written when strata normalised types
    /// makes a difference (and a table rebuild).
    public var type: String { didSet { typeKey = Column.typeKey(type) } }
    /// `type` with its whitespace normalised: what equality compares.
    public private(set) var typeKey: String
    public var notNull: Bool
    /// The default's SQL expression text, normalised (`0` and `'0'` differ).
    public var defaultValue: String?
    /// The collating sequence, uppercased; nil means SQLite's default (BINARY).
    public var collation: String?
    /// `GENERATED ALWAYS AS (expression) VIRTUAL|STORED`; nil for a stored value.
    public var generated: Generated?

    public init(name: String, type: String = "", notNull: Bool = false, defaultValue: String? = nil, collation: String? = nil,
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

    public static func == (a: Column, b: Column) -> Bool {
        a.name == b.name && a.typeKey == b.typeKey && a.notNull == b.notNull && SQL.sameFragment(a.defaultValue, b.defaultValue)
            && a.collation == b.collation && a.generated == b.generated
    }

    public func hash(into hasher: inout Hasher) {
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
public struct Generated: Hashable, Sendable {
    /// The normalised expression, without `AS (` and `)`.
    public var expression: String
    public var stored: Bool

    public init(_ expression: String, stored: Bool = false) {
        self.expression = expression
        self.stored = stored
    }
}

public struct ForeignKey: Hashable, Sendable {
    public var columns: [String]
    public var referencedTable: String
    /// Empty when the constraint names the parent's primary key implicitly.
    public var referencedColumns: [String]
    public var onUpdate: String
    public var onDelete: String
    /// `DEFERRABLE INITIALLY DEFERRED`: checked at COMMIT instead of at each
    /// statement. SQLite treats every other deferrability clause as immediate.
    public var deferred: Bool

    public init(columns: [String], referencedTable: String, referencedColumns: [String] = [],
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
public struct Check: Hashable, Sendable, ExpressibleByStringLiteral {
    public var name: String?
    /// The normalised expression, without `CHECK (` and `)`.
    public var expression: String

    public init(_ expression: String, name: String? = nil) {
        self.name = name
        self.expression = expression
    }

    public init(stringLiteral expression: String) { self.init(expression) }
}

/// Everything about a table that is not a column. Any change here needs a
/// table rebuild in SQLite.
public struct TableConstraints: Hashable, Sendable {
    public var primaryKey: [String]
    public var autoincrement: Bool
    /// UNIQUE constraints (inline or table-level: SQLite does not tell them apart), sorted.
    public var uniques: [[String]]
    /// Sorted, so that declaration order (which PRAGMA reverses) does not matter.
    public var foreignKeys: [ForeignKey]
    /// CHECK constraints (column-level ones too), in declaration order.
    public var checks: [Check]
    public var withoutRowid: Bool
    public var strict: Bool

    public init(primaryKey: [String] = [], autoincrement: Bool = false, uniques: [[String]] = [],
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
    public mutating func normalizeOrder() {
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

public struct Table: Hashable, Sendable {
    public var name: String
    public var columns: [Column]
    public var constraints: TableConstraints

    public init(name: String, columns: [Column], constraints: TableConstraints = TableConstraints()) {
        self.name = name
        self.columns = columns
        self.constraints = constraints
    }

    public func columnIndex(_ name: String) -> Int? {
        columns.firstIndex { $0.name.lowercased() == name.lowercased() }
    }

    public func column(_ name: String) -> Column? { columnIndex(name).map { columns[$0] } }

    /// Names of the columns that constraints of this table refer to by name.
    var constrainedColumns: Set<String> {
        var names = Set(constraints.primaryKey.map { $0.lowercased() })
        for u in constraints.uniques { names.formUnion(u.map { $0.lowercased() }) }
        for fk in constraints.foreignKeys { names.formUnion(fk.columns.map { $0.lowercased() }) }
        return names
    }
}

public struct Index: Hashable, Sendable {
    public var name: String
    public var table: String
    public var unique: Bool
    /// Indexed terms, normalised: `email`, `lower(name)`, `created_at DESC`.
    public var terms: [String]
    /// The partial index's WHERE expression, normalised.
    public var predicate: String?

    public init(name: String, table: String, unique: Bool = false, terms: [String], predicate: String? = nil) {
        self.name = name
        self.table = table
        self.unique = unique
        self.terms = terms
        self.predicate = predicate
    }
}

public struct View: Hashable, Sendable {
    public var name: String
    /// The whole normalised `CREATE VIEW` statement.
    public var sql: String

    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }
}

/// A virtual table (`CREATE VIRTUAL TABLE t USING fts5(...)`). Its module
/// owns its storage (the shadow tables, which strata leaves to it), so it is
/// kept as its statement and changed only by dropping and creating it.
public struct VirtualTable: Hashable, Sendable {
    public var name: String
    /// The whole normalised `CREATE VIRTUAL TABLE` statement.
    public var sql: String
    /// Its visible columns, as the module declares them: what a change of
    /// definition copies across.
    public var columns: [String]

    public init(name: String, sql: String, columns: [String] = []) {
        self.name = name
        self.sql = sql
        self.columns = columns
    }

    /// The module named after `USING`, lowercased.
    public var module: String? {
        guard let tokens = try? SQL.tokenize(sql), let using = tokens.firstIndex(where: { $0.isKeyword("USING") }),
              using + 1 < tokens.count else { return nil }
        return tokens[using + 1].identifier?.lowercased()
    }
}

public struct Trigger: Hashable, Sendable {
    public var name: String
    public var table: String
    /// The whole normalised `CREATE TRIGGER` statement.
    public var sql: String

    public init(name: String, table: String, sql: String) {
        self.name = name
        self.table = table
        self.sql = sql
    }
}

/// A database schema: the state that events fold into. Keys are lowercased
/// names, because SQLite compares identifiers case-insensitively.
public struct Schema: Hashable, Sendable {
    public var tables: [String: Table] = [:]
    public var indexes: [String: Index] = [:]
    public var views: [String: View] = [:]
    public var triggers: [String: Trigger] = [:]
    public var virtualTables: [String: VirtualTable] = [:]

    public init() {}

    public static let empty = Schema()

    public var isEmpty: Bool { tables.isEmpty && indexes.isEmpty && views.isEmpty && triggers.isEmpty && virtualTables.isEmpty }

    public func table(_ name: String) -> Table? { tables[name.lowercased()] }

    /// A table's indexes in encoding order: they are written into events
    /// (`createTable`, `dropTable`), so this order is part of their ids.
    public func indexes(on table: String) -> [Index] {
        Schema.inEncodingOrder(indexes.values.filter { $0.table.lowercased() == table.lowercased() })
    }

    /// A table's triggers in encoding order (written into events, like its indexes).
    public func triggers(on table: String) -> [Trigger] {
        Schema.inEncodingOrder(triggers.values.filter { $0.table.lowercased() == table.lowercased() })
    }

    // MARK: - The two name orders

    /// Name order as SQLite compares names (case-insensitive): the order of
    /// DDL scripts, diffs and plans. Free to change: nothing hashed depends on it.
    public static func byName<S: Sequence>(_ objects: S) -> [S.Element] where S.Element: NamedObject {
        objects.sorted { $0.name.lowercased() < $1.name.lowercased() }
    }

    /// Name order by the bytes as written (case-sensitive): the order of
    /// objects inside the canonical encoding. Changing it would change event
    /// ids, which the golden encoding test guards.
    public static func inEncodingOrder<S: Sequence>(_ objects: S) -> [S.Element] where S.Element: NamedObject {
        objects.sorted { $0.name < $1.name }
    }

    /// Every index, in name order.
    public var indexesByName: [Index] { Schema.byName(indexes.values) }

    /// Tables ordered so that a table comes after the tables its foreign keys
    /// reference (cycles are broken by name order).
    public var tablesInDependencyOrder: [Table] {
        let sorted = Schema.byName(tables.values)
        var placed = Set<String>()
        var result: [Table] = []
        var visiting = Set<String>()
        func visit(_ t: Table) {
            let key = t.name.lowercased()
            if placed.contains(key) || visiting.contains(key) { return }
            visiting.insert(key)
            for fk in t.constraints.foreignKeys {
                if let parent = tables[fk.referencedTable.lowercased()] { visit(parent) }
            }
            visiting.remove(key)
            placed.insert(key)
            result.append(t)
        }
        sorted.forEach(visit)
        return result
    }

    /// Views ordered so that a view comes after the views it reads.
    public var viewsInDependencyOrder: [View] {
        let sorted = Schema.byName(views.values)
        var placed = Set<String>()
        var visiting = Set<String>()
        var result: [View] = []
        func visit(_ v: View) {
            let key = v.name.lowercased()
            if placed.contains(key) || visiting.contains(key) { return }
            visiting.insert(key)
            for other in sorted where other.name.lowercased() != key && SQL.mentions(bodyOf: v, name: other.name) {
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
    public func dependents(ofTable name: String) -> (views: [View], triggers: [Trigger]) {
        var names: Set<String> = [name.lowercased()]
        var views: [View] = []
        for v in viewsInDependencyOrder where names.contains(where: { SQL.mentions(bodyOf: v, name: $0) }) {
            views.append(v)
            names.insert(v.name.lowercased())
        }
        let triggers = triggersByName.filter { t in
            t.table.lowercased() != name.lowercased() && names.contains { SQL.mentions(bodyOf: t, name: $0) }
        }
        return (views, triggers)
    }

    /// Every trigger, in name order.
    public var triggersByName: [Trigger] { Schema.byName(triggers.values) }

    /// Whether any name (table, index or view) is taken; they share SQLite's namespace.
    func nameIsTaken(_ name: String) -> Bool {
        let key = name.lowercased()
        return tables[key] != nil || indexes[key] != nil || views[key] != nil || virtualTables[key] != nil
    }

    /// Every virtual table, in name order.
    public var virtualTablesByName: [VirtualTable] { Schema.byName(virtualTables.values) }
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
        return tokens[start...].contains { $0.identifier?.lowercased() == name.lowercased() }
    }
}

/// A schema object with a name (tables, indexes, views, triggers, virtual
/// tables), for the two name orders.
public protocol NamedObject {
    var name: String { get }
}

extension Table: NamedObject {}
extension Index: NamedObject {}
extension View: NamedObject {}
extension Trigger: NamedObject {}
extension VirtualTable: NamedObject {}
