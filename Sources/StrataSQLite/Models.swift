import CSQLite
import StrataCore

/// An error in a models file or a hand-written DDL script.
package struct ModelsError: Error, CustomStringConvertible, Sendable {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// Reads desired schemas written as plain SQLite DDL. SQLite itself is the
/// parser: the DDL runs in a scratch in-memory database, which is then inspected.
package enum Models {
    /// The schema that `ddl` declares. Only CREATE statements are accepted.
    package static func schema(fromDDL ddl: String, source: String) throws -> Schema {
        var timings = Timings("models")
        return try schema(fromDDL: ddl, source: source, timings: &timings)
    }

    package static func schema(fromDDL ddl: String, source: String, timings: inout Timings) throws -> Schema {
        let db = try Connection.memory()
        try run(ddl, on: db, source: source, allow: { $0.isKeyword("CREATE") }, what: "only CREATE TABLE, VIRTUAL TABLE, INDEX, VIEW and TRIGGER statements belong in a models file")
        timings.lap("load models into SQLite")
        defer { timings.lap("introspect") }
        return try inspect(db, source: source)
    }

    /// The schema that results from running hand-written DDL on `start`.
    package static func schema(applying ddl: String, to start: Schema, source: String) throws -> Schema {
        let db = try Connection.memory()
        for statement in DDL.script(start) { try db.executeOne(statement) }
        try run(ddl, on: db, source: source,
                allow: { ["CREATE", "DROP", "ALTER"].contains(where: $0.isKeyword) },
                what: "only CREATE, DROP and ALTER statements can make a revision")
        return try inspect(db, source: source)
    }

    static func inspect(_ db: Connection, source: String) throws -> Schema {
        let schema: Schema
        do { schema = try Inspector(db).schema() } catch let e as InspectionError {
            throw ModelsError("\(source): \(e.message)")
        }
        if let reserved = try db.query("SELECT name FROM sqlite_master WHERE substr(name, 1, 7) = 'strata_'").first?[0].string {
            throw ModelsError("\(source): \(reserved): names starting with strata_ are reserved for strata's bookkeeping; rename it")
        }
        return schema
    }

    /// Runs statements one at a time, so each can be checked and an error can
    /// name its line.
    static func run(_ text: String, on db: Connection, source: String, allow: (SQLToken) -> Bool, what: String) throws {
        try StatementRunner.each(text, on: db, source: source) { sql, first, _, line in
            guard allow(first) else { throw ModelsError("\(source): statement at line \(line): \(what)") }
            if let tokens = try? SQL.tokenize(sql, limit: 2), tokens.count > 1, tokens[1].isKeyword("TEMP") || tokens[1].isKeyword("TEMPORARY") {
                throw ModelsError("\(source): statement at line \(line): temporary objects do not belong in a schema")
            }
            return .run
        }
    }
}

extension ModelsError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "models.invalid" }
}
