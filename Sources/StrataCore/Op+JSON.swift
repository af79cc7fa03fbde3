// The JSON form of ops, part of the canonical encoding (docs/FORMATS.md).
// Optional values are written as null, never omitted, so every op of a kind
// has the same keys.

// MARK: - Encoding

extension Op {
    package var json: JSON {
        switch self {
        case let .createTable(t, indexes, triggers):
            return .object(["op": .string(kind.rawValue), "table": t.json, "indexes": .array(indexes.map(\.json)),
                            "triggers": .array(triggers.map(\.json))])
        case let .dropTable(t, indexes, triggers):
            return .object(["op": .string(kind.rawValue), "table": t.json, "indexes": .array(indexes.map(\.json)),
                            "triggers": .array(triggers.map(\.json))])
        case let .renameTable(from, to):
            return .object(["op": .string(kind.rawValue), "from": .string(from), "to": .string(to)])
        case let .addColumn(table, column, position):
            return .object(["op": .string(kind.rawValue), "table": .string(table), "column": column.json, "position": .int(Int64(position))])
        case let .dropColumn(table, column, position):
            return .object(["op": .string(kind.rawValue), "table": .string(table), "column": column.json, "position": .int(Int64(position))])
        case let .renameColumn(table, from, to):
            return .object(["op": .string(kind.rawValue), "table": .string(table), "from": .string(from), "to": .string(to)])
        case let .alterColumn(table, from, to):
            return .object(["op": .string(kind.rawValue), "table": .string(table), "from": from.json, "to": to.json])
        case let .alterConstraints(table, from, to):
            return .object(["op": .string(kind.rawValue), "table": .string(table), "from": from.json, "to": to.json])
        case let .reorderColumns(table, from, to):
            return .object(["op": .string(kind.rawValue), "table": .string(table), "from": .strings(from), "to": .strings(to)])
        case let .createIndex(i): return .object(["op": .string(kind.rawValue), "index": i.json])
        case let .dropIndex(i): return .object(["op": .string(kind.rawValue), "index": i.json])
        case let .createView(v): return .object(["op": .string(kind.rawValue), "view": v.json])
        case let .dropView(v): return .object(["op": .string(kind.rawValue), "view": v.json])
        case let .createTrigger(t): return .object(["op": .string(kind.rawValue), "trigger": t.json])
        case let .dropTrigger(t): return .object(["op": .string(kind.rawValue), "trigger": t.json])
        case let .createVirtualTable(v): return .object(["op": .string(kind.rawValue), "virtualTable": v.json])
        case let .dropVirtualTable(v): return .object(["op": .string(kind.rawValue), "virtualTable": v.json])
        case let .alterVirtualTable(from, to): return .object(["op": .string(kind.rawValue), "from": from.json, "to": to.json])
        case let .exec(forward, reverse): return .object(["op": .string(kind.rawValue), "forward": .optional(forward), "reverse": .optional(reverse)])
        }
    }
}

extension JSON: ExpressibleByStringLiteral {
    package init(stringLiteral value: String) { self = .string(value) }

    static func strings(_ values: [String]) -> JSON { .array(values.map(JSON.string)) }

    package static func optional(_ value: String?) -> JSON { value.map(JSON.string) ?? .null }
}

extension Column {
    package var json: JSON {
        var fields: [String: JSON] = ["name": .string(name), "type": .string(type), "notNull": .bool(notNull),
                                      "default": .optional(defaultValue), "collation": .optional(collation)]
        // Present only for a generated column, so other columns keep the
        // encoding (and events their ids) from before generated columns.
        if let generated {
            fields["generated"] = .object(["expression": .string(generated.expression), "stored": .bool(generated.stored)])
        }
        return .object(fields)
    }
}

extension ForeignKey {
    var json: JSON {
        var fields: [String: JSON] = ["columns": .strings(columns), "table": .string(referencedTable), "to": .strings(referencedColumns),
                                      "onUpdate": .string(onUpdate), "onDelete": .string(onDelete)]
        // Present only when true, so that events written before it existed keep their ids.
        if deferred { fields["deferred"] = .bool(true) }
        return .object(fields)
    }
}

extension TableConstraints {
    var json: JSON {
        .object(["primaryKey": .strings(primaryKey), "autoincrement": .bool(autoincrement),
                 "uniques": .array(uniques.map(JSON.strings)), "foreignKeys": .array(foreignKeys.map(\.json)),
                 "checks": .array(checks.map(\.json)), "withoutRowid": .bool(withoutRowid), "strict": .bool(strict)])
    }
}

extension Check {
    /// The bare expression when unnamed (so events from before names were
    /// kept have the same ids), else `{"expression":S,"name":S}`.
    var json: JSON {
        guard let name else { return .string(expression) }
        return .object(["expression": .string(expression), "name": .string(name)])
    }

    init(_ json: JSON) throws {
        if let expression = json.stringValue {
            self.init(expression)
            return
        }
        let r = Reader(json, path: "constraints.checks")
        try r.exactly(["expression", "name"])
        self.init(try r.string("expression"), name: try r.string("name"))
    }
}

extension Table {
    package var json: JSON {
        .object(["name": .string(name), "columns": .array(columns.map(\.json)), "constraints": constraints.json])
    }
}

extension Index {
    package var json: JSON {
        .object(["name": .string(name), "table": .string(table), "unique": .bool(unique), "terms": .strings(terms),
                 "where": .optional(predicate)])
    }
}

extension View {
    package var json: JSON { .object(["name": .string(name), "sql": .string(sql)]) }
}

extension VirtualTable {
    package var json: JSON { .object(["name": .string(name), "sql": .string(sql), "columns": .strings(columns)]) }

    init(_ json: JSON) throws {
        let r = Reader(json, path: "virtualTable")
        try r.exactly(["name", "sql", "columns"])
        self.init(name: try r.string("name"), sql: try r.string("sql"), columns: try r.strings("columns"))
    }
}

extension Trigger {
    package var json: JSON { .object(["name": .string(name), "table": .string(table), "sql": .string(sql)]) }
}

extension Schema {
    /// A JSON document of the whole state (snapshots, `schema --json`).
    package var json: JSON {
        var fields: [String: JSON] = [
            "tables": .array(tablesInDependencyOrder.map(\.json)),
            "indexes": .array(Schema.inEncodingOrder(indexes.values).map(\.json)),
            "views": .array(viewsInDependencyOrder.map(\.json)),
            "triggers": .array(triggersByName.map(\.json)),
        ]
        // Only when there are some, so snapshots written before virtual
        // tables were modelled read the same.
        if !virtualTables.isEmpty { fields["virtualTables"] = .array(virtualTablesByName.map(\.json)) }
        return .object(fields)
    }

    package init(json: JSON) throws {
        self.init()
        let r = Reader(json, path: "schema")
        if r.has("virtualTables") {
            for v in try r.array("virtualTables") { let v = try VirtualTable(v); virtualTables[SQLName(v.name)] = v }
        }
        for t in try r.array("tables") { let t = try Table(t); tables[SQLName(t.name)] = t }
        for i in try r.array("indexes") { let i = try Index(i); indexes[SQLName(i.name)] = i }
        for v in try r.array("views") { let v = try View(v); views[SQLName(v.name)] = v }
        for t in try r.array("triggers") { let t = try Trigger(t); triggers[SQLName(t.name)] = t }
    }
}

// MARK: - Decoding

/// Reads fields of a JSON object, with errors that name the field.
struct Reader {
    let fields: [String: JSON]
    let path: String

    init(_ value: JSON, path: String) {
        if case .object(let f) = value { fields = f } else { fields = [:] }
        self.path = path
    }

    func value(_ key: String) throws -> JSON {
        guard let v = fields[key] else { throw EventDecodingError("\(path): missing \"\(key)\"") }
        return v
    }

    func string(_ key: String) throws -> String {
        guard let s = try value(key).stringValue else { throw EventDecodingError("\(path).\(key): expected a string") }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        let v = try value(key)
        if v == .null { return nil }
        guard let s = v.stringValue else { throw EventDecodingError("\(path).\(key): expected a string or null") }
        return s
    }

    func bool(_ key: String) throws -> Bool {
        guard let b = try value(key).boolValue else { throw EventDecodingError("\(path).\(key): expected true or false") }
        return b
    }

    func int(_ key: String) throws -> Int {
        guard let i = try value(key).intValue, i >= 0, i < 1 << 31 else {
            throw EventDecodingError("\(path).\(key): expected a non-negative integer")
        }
        return Int(i)
    }

    func array(_ key: String) throws -> [JSON] {
        guard let a = try value(key).arrayValue else { throw EventDecodingError("\(path).\(key): expected an array") }
        return a
    }

    func strings(_ key: String) throws -> [String] {
        try array(key).map {
            guard let s = $0.stringValue else { throw EventDecodingError("\(path).\(key): expected strings") }
            return s
        }
    }

    func has(_ key: String) -> Bool { fields[key] != nil }

    func exactly(_ keys: Set<String>, optional: Set<String> = []) throws {
        if let extra = fields.keys.first(where: { !keys.contains($0) && !optional.contains($0) }) {
            throw EventDecodingError("\(path): unknown field \"\(extra)\"")
        }
        if let missing = keys.first(where: { fields[$0] == nil }) {
            throw EventDecodingError("\(path): missing \"\(missing)\"")
        }
    }
}

extension Column {
    init(_ json: JSON) throws {
        let r = Reader(json, path: "column")
        try r.exactly(["name", "type", "notNull", "default", "collation"], optional: ["generated"])
        var generated: Generated?
        if r.has("generated") {
            let g = Reader(try r.value("generated"), path: "column.generated")
            try g.exactly(["expression", "stored"])
            generated = Generated(try g.string("expression"), stored: try g.bool("stored"))
        }
        self.init(name: try r.string("name"), type: try r.string("type"), notNull: try r.bool("notNull"),
                  defaultValue: try r.optionalString("default"), collation: try r.optionalString("collation"), generated: generated)
    }
}

extension ForeignKey {
    init(_ json: JSON) throws {
        let r = Reader(json, path: "foreignKey")
        try r.exactly(["columns", "table", "to", "onUpdate", "onDelete"], optional: ["deferred"])
        let deferred = r.has("deferred") ? try r.bool("deferred") : false
        if r.has("deferred") && !deferred {
            throw EventDecodingError("foreignKey: \"deferred\" is written only when true")
        }
        self.init(columns: try r.strings("columns"), referencedTable: try r.string("table"),
                  referencedColumns: try r.strings("to"), onUpdate: try r.string("onUpdate"), onDelete: try r.string("onDelete"),
                  deferred: deferred)
    }
}

extension TableConstraints {
    init(_ json: JSON) throws {
        let r = Reader(json, path: "constraints")
        try r.exactly(["primaryKey", "autoincrement", "uniques", "foreignKeys", "checks", "withoutRowid", "strict"])
        let uniques = try r.array("uniques").map { u -> [String] in
            try Reader(.object(["u": u]), path: "constraints.uniques").strings("u")
        }
        self.init(primaryKey: try r.strings("primaryKey"), autoincrement: try r.bool("autoincrement"), uniques: uniques,
                  foreignKeys: try r.array("foreignKeys").map(ForeignKey.init), checks: try r.array("checks").map(Check.init),
                  withoutRowid: try r.bool("withoutRowid"), strict: try r.bool("strict"))
    }
}

extension Table {
    init(_ json: JSON) throws {
        let r = Reader(json, path: "table")
        try r.exactly(["name", "columns", "constraints"])
        self.init(name: try r.string("name"), columns: try r.array("columns").map(Column.init),
                  constraints: try TableConstraints(try r.value("constraints")))
    }
}

extension Index {
    init(_ json: JSON) throws {
        let r = Reader(json, path: "index")
        try r.exactly(["name", "table", "unique", "terms", "where"])
        self.init(name: try r.string("name"), table: try r.string("table"), unique: try r.bool("unique"),
                  terms: try r.strings("terms"), predicate: try r.optionalString("where"))
    }
}

extension View {
    init(_ json: JSON) throws {
        let r = Reader(json, path: "view")
        try r.exactly(["name", "sql"])
        self.init(name: try r.string("name"), sql: try r.string("sql"))
    }
}

extension Trigger {
    init(_ json: JSON) throws {
        let r = Reader(json, path: "trigger")
        try r.exactly(["name", "table", "sql"])
        self.init(name: try r.string("name"), table: try r.string("table"), sql: try r.string("sql"))
    }
}

extension Op {
    package init(json: JSON) throws {
        let r = Reader(json, path: "op")
        let name = try r.string("op")
        guard let kind = Kind(rawValue: name) else {
            throw EventDecodingError("unknown op \"\(name)\" (written by a newer strata? upgrade this one)")
        }
        switch kind {
        case .createTable, .dropTable:
            try r.exactly(["op", "table", "indexes", "triggers"])
            let t = try Table(try r.value("table"))
            let indexes = try r.array("indexes").map(Index.init)
            let triggers = try r.array("triggers").map(Trigger.init)
            self = kind == .createTable ? .createTable(t, indexes: indexes, triggers: triggers)
                : .dropTable(t, indexes: indexes, triggers: triggers)
        case .renameTable:
            try r.exactly(["op", "from", "to"])
            self = .renameTable(from: try r.string("from"), to: try r.string("to"))
        case .addColumn, .dropColumn:
            try r.exactly(["op", "table", "column", "position"])
            let table = try r.string("table"), column = try Column(try r.value("column")), position = try r.int("position")
            self = kind == .addColumn ? .addColumn(table: table, column: column, position: position)
                : .dropColumn(table: table, column: column, position: position)
        case .renameColumn:
            try r.exactly(["op", "table", "from", "to"])
            self = .renameColumn(table: try r.string("table"), from: try r.string("from"), to: try r.string("to"))
        case .alterColumn:
            try r.exactly(["op", "table", "from", "to"])
            self = .alterColumn(table: try r.string("table"), from: try Column(try r.value("from")), to: try Column(try r.value("to")))
        case .alterConstraints:
            try r.exactly(["op", "table", "from", "to"])
            self = .alterConstraints(table: try r.string("table"), from: try TableConstraints(try r.value("from")),
                                     to: try TableConstraints(try r.value("to")))
        case .reorderColumns:
            try r.exactly(["op", "table", "from", "to"])
            self = .reorderColumns(table: try r.string("table"), from: try r.strings("from"), to: try r.strings("to"))
        case .createIndex, .dropIndex:
            try r.exactly(["op", "index"])
            let i = try Index(try r.value("index"))
            self = kind == .createIndex ? .createIndex(i) : .dropIndex(i)
        case .createView, .dropView:
            try r.exactly(["op", "view"])
            let v = try View(try r.value("view"))
            self = kind == .createView ? .createView(v) : .dropView(v)
        case .createTrigger, .dropTrigger:
            try r.exactly(["op", "trigger"])
            let t = try Trigger(try r.value("trigger"))
            self = kind == .createTrigger ? .createTrigger(t) : .dropTrigger(t)
        case .createVirtualTable, .dropVirtualTable:
            try r.exactly(["op", "virtualTable"])
            let v = try VirtualTable(try r.value("virtualTable"))
            self = kind == .createVirtualTable ? .createVirtualTable(v) : .dropVirtualTable(v)
        case .alterVirtualTable:
            try r.exactly(["op", "from", "to"])
            self = .alterVirtualTable(from: try VirtualTable(try r.value("from")), to: try VirtualTable(try r.value("to")))
        case .exec:
            try r.exactly(["op", "forward", "reverse"])
            let forward = try r.optionalString("forward"), reverse = try r.optionalString("reverse")
            guard forward != nil || reverse != nil else { throw EventDecodingError("op: an exec step needs forward or reverse SQL") }
            self = .exec(forward: forward, reverse: reverse)
        }
    }
}
