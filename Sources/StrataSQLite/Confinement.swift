import CSQLite
import StrataCore

/// What the statements of a run, a proof or a models file may do, enforced
/// by SQLite's authorizer (`sqlite3_set_authorizer`) while each statement
/// is prepared. SQL from outside (a pushed event, a pulled one, a models
/// file, another tool's migrations) reaches SQLite only under one of these.
package enum Confinement: Sendable, Equatable {
    /// strata's own plan statements: tables, indexes, views, triggers and
    /// virtual tables of the main database, rows of any table; no
    /// ATTACH/DETACH, no transaction control, no PRAGMA but the planner's
    /// own (`legacy_alter_table`), no temporary objects, no `load_extension`.
    case schema
    /// A data step (`exec`): rows of the application's tables only (not
    /// SQLite's or strata's own), no schema change, no PRAGMA.
    case data
    /// A data check: reads only.
    case read
    /// A models file or another tool's migration, run on strata's scratch
    /// database: any schema change there, but no ATTACH/DETACH and no
    /// `load_extension`; a PRAGMA outside the harmless ones does nothing.
    case scratch
}

/// Why the authorizer refused a statement, in words for an `error:`.
package struct ConfinementRefusal: Error, CustomStringConvertible, Sendable {
    package let reason: String
    package var description: String { reason }
}

extension ConfinementRefusal: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "sql.refused" }
}

/// The authorizer's state for one connection: the policy in force and the
/// first refusal it made (SQLite itself only says "not authorized").
final class Authorizer {
    var policy: Confinement?
    var refusal: String?
    /// While set, every action is recorded (the fragment checks read what a
    /// statement would do from it).
    var recorded: [(action: Int32, a: String?, b: String?)]?

    /// PRAGMAs a plan's statements may run.
    static let planPragmas: Set<String> = ["legacy_alter_table"]
    /// PRAGMAs a plan's statements may read (a virtual table's module reads
    /// `data_version` and the page size as it creates its tables).
    static let readPragmas: Set<String> = ["data_version", "page_size", "page_count", "freelist_count", "encoding", "user_version",
                                           "schema_version", "foreign_keys", "table_info", "table_xinfo", "index_list", "index_info",
                                           "index_xinfo", "foreign_key_list"]
    /// PRAGMAs that only change how a scratch connection behaves.
    static let scratchPragmas: Set<String> = ["foreign_keys", "legacy_alter_table", "defer_foreign_keys", "recursive_triggers",
                                              "case_sensitive_like", "journal_mode", "synchronous", "encoding", "user_version",
                                              "application_id", "auto_vacuum", "page_size", "cache_size", "busy_timeout",
                                              "temp_store", "foreign_key_check", "table_info", "table_xinfo", "index_list",
                                              "index_info", "index_xinfo", "foreign_key_list", "optimize", "integrity_check",
                                              "quick_check", "secure_delete", "locking_mode", "mmap_size", "trusted_schema"]
    static let deniedFunctions: Set<String> = ["load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"]

    func decide(_ action: Int32, _ a: String?, _ b: String?, _ database: String?) -> Int32 {
        recorded?.append((action, a, b))
        guard let policy else { return SQLITE_OK }
        func deny(_ why: String) -> Int32 {
            if refusal == nil { refusal = why }
            return SQLITE_DENY
        }
        let name = SQL.nameKey(a ?? "")
        // sqlite_sequence holds AUTOINCREMENT's counters, which data steps
        // set (real projects start a table's ids at 100000 so).
        let reserved = (name.hasPrefix("sqlite_") && name != "sqlite_sequence") || name.hasPrefix("strata_")
        switch action {
        case SQLITE_READ, SQLITE_SELECT, SQLITE_RECURSIVE:
            return SQLITE_OK
        case SQLITE_FUNCTION:
            let function = SQL.nameKey(b ?? "")
            return Self.deniedFunctions.contains(function) ? deny("it calls \(function)(), which no migration may call") : SQLITE_OK
        case SQLITE_ATTACH, SQLITE_DETACH:
            return deny("it attaches or detaches a database, which no migration may do")
        case SQLITE_TRANSACTION, SQLITE_SAVEPOINT:
            if policy == .scratch { return SQLITE_OK }  // read, and skipped (strata runs one transaction)
            return deny("it controls the transaction, which is strata's: a run is one transaction")
        case SQLITE_PRAGMA:
            switch policy {
            case .schema:
                if Self.planPragmas.contains(name) || (b == nil && Self.readPragmas.contains(name)) { return SQLITE_OK }
                return deny("it runs PRAGMA \(name), which no migration may run")
            case .scratch:
                // Reads are harmless there; a setting outside the list does nothing.
                return b == nil || Self.scratchPragmas.contains(name) ? SQLITE_OK : SQLITE_IGNORE
            case .data, .read:
                // A full-text table's module reads data_version as it is queried.
                if b == nil && Self.readPragmas.contains(name) { return SQLITE_OK }
                return deny("it runs PRAGMA \(name), which a data step may not run")
            }
        case SQLITE_INSERT, SQLITE_UPDATE, SQLITE_DELETE:
            if ["sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema"].contains(name) {
                // SQLite's own record of a CREATE, DROP or ALTER (a rename
                // rewrites the temporary schema's too; creating a temporary
                // object is refused by its own action).
                return policy == .schema || policy == .scratch ? SQLITE_OK : deny("it changes the schema, and a data step changes rows only")
            }
            switch policy {
            case .read: return deny("it writes rows of \(a ?? "?"), and a check only reads")
            case .data where reserved: return deny("it writes rows of \(a ?? "?"), a table of SQLite's or strata's own")
            default: return SQLITE_OK
            }
        case SQLITE_CREATE_TEMP_INDEX, SQLITE_CREATE_TEMP_TABLE, SQLITE_CREATE_TEMP_TRIGGER, SQLITE_CREATE_TEMP_VIEW,
             SQLITE_DROP_TEMP_INDEX, SQLITE_DROP_TEMP_TABLE, SQLITE_DROP_TEMP_TRIGGER, SQLITE_DROP_TEMP_VIEW:
            return policy == .scratch ? SQLITE_OK : deny("it creates or drops a temporary object, which no migration may do")
        case SQLITE_CREATE_INDEX, SQLITE_CREATE_TABLE, SQLITE_CREATE_TRIGGER, SQLITE_CREATE_VIEW, SQLITE_DROP_INDEX,
             SQLITE_DROP_TABLE, SQLITE_DROP_TRIGGER, SQLITE_DROP_VIEW, SQLITE_ALTER_TABLE, SQLITE_CREATE_VTABLE, SQLITE_DROP_VTABLE:
            switch policy {
            case .schema, .scratch:
                // ALTER TABLE names the database first (the table second).
                let target = action == SQLITE_ALTER_TABLE ? a : database
                return (target ?? "main") == "main" ? SQLITE_OK : deny("it changes the schema of database \(target ?? "?")")
            case .data, .read: return deny("it changes the schema (\(a ?? "?")), and a data step changes rows only")
            }
        case SQLITE_REINDEX:
            // SQLite asks for it while it builds a new index.
            return policy == .schema || policy == .scratch ? SQLITE_OK : deny("it rebuilds an index, and a data step changes rows only")
        default:
            // ANALYZE, COPY and whatever a later SQLite adds.
            return policy == .scratch ? SQLITE_OK : deny("it does what no migration may do (SQLite action \(action))")
        }
    }
}

private func authorize(_ user: UnsafeMutableRawPointer?, _ action: Int32, _ a: UnsafePointer<CChar>?, _ b: UnsafePointer<CChar>?,
                       _ database: UnsafePointer<CChar>?, _ trigger: UnsafePointer<CChar>?) -> Int32 {
    guard let user else { return SQLITE_OK }
    let state = Unmanaged<Authorizer>.fromOpaque(user).takeUnretainedValue()
    // A trigger's own statements run as the trigger says (its body can only
    // hold INSERT, UPDATE, DELETE and SELECT, and was checked on its way in).
    if trigger != nil && state.recorded == nil { return SQLITE_OK }
    return state.decide(action, a.map { String(cString: $0) }, b.map { String(cString: $0) }, database.map { String(cString: $0) })
}

extension Connection {
    /// Runs `body` with every statement it prepares confined to `policy`.
    /// A refusal is thrown as a `ConfinementRefusal` that says what the
    /// statement tried.
    package func confined<T>(_ policy: Confinement, _ body: () throws -> T) throws -> T {
        let state = authorizer
        let previous = state.policy
        state.policy = policy
        state.refusal = nil
        defer { state.policy = previous }
        do {
            return try body()
        } catch let e as SQLiteError where e.code & 0xFF == SQLITE_AUTH || state.refusal != nil {
            let reason = state.refusal ?? "SQLite's authorizer refused it"
            throw ConfinementRefusal(reason: "refused `\(e.sql.map { String($0.prefix(200)) } ?? "?")`: \(reason)")
        }
    }

    /// The actions SQLite reports while preparing `sql` (nothing runs), and
    /// the text after its first statement.
    func actions(preparing sql: String) throws -> (actions: [(action: Int32, a: String?, b: String?)], rest: String) {
        let state = authorizer
        state.recorded = []
        defer { state.recorded = nil }
        var stmt: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let rest: String = try sql.withCString { start in
            let rc = sqlite3_prepare_v2(handle, start, -1, &stmt, &tail)
            defer { sqlite3_finalize(stmt) }
            guard rc == SQLITE_OK else { throw error(rc, sql) }
            return tail.map { String(cString: StatementRunner.startOfStatement($0)) } ?? ""
        }
        return (state.recorded ?? [], rest)
    }

    /// Prepares and runs exactly one statement: text after it (but white
    /// space, comments and `;`) is refused, never run.
    package func executeOne(_ sql: String) throws {
        var stmt: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        try sql.withCString { start in
            let rc = sqlite3_prepare_v2(handle, start, -1, &stmt, &tail)
            defer { sqlite3_finalize(stmt) }
            guard rc == SQLITE_OK else { throw error(rc, sql) }
            if let tail, StatementRunner.startOfStatement(tail).pointee != 0 {
                throw SQLiteError(code: SQLITE_ERROR, message: "more than one statement, where strata runs exactly one", sql: sql)
            }
            guard let stmt else { return }
            var step = sqlite3_step(stmt)
            while step == SQLITE_ROW { step = sqlite3_step(stmt) }
            guard step == SQLITE_DONE else { throw error(step, sql) }
        }
    }
}

extension Connection {
    /// Called once, when the connection opens: with no policy in force the
    /// authorizer allows everything (strata's own bookkeeping).
    func installAuthorizer() {
        sqlite3_set_authorizer(handle, authorize, Unmanaged.passUnretained(authorizer).toOpaque())
    }
}
