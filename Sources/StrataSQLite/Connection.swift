import CSQLite
import StrataCore
import Foundation

/// A value read from or bound to SQLite.
public enum Value: Hashable, Sendable {
    case null
    case int(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public var string: String? {
        switch self {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .real(let d): return String(d)
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        case .null: return nil
        }
    }

    public var int: Int64? {
        switch self {
        case .int(let i): return i
        case .text(let s): return Int64(s)
        default: return nil
        }
    }

    public var bytes: [UInt8]? {
        switch self {
        case .blob(let b): return b
        case .text(let s): return Array(s.utf8)
        default: return nil
        }
    }
}

/// An SQLite error, with the statement that caused it.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let sql: String?

    public var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }
    /// The disk (or the database's size limit) is full.
    public var isFull: Bool { code & 0xFF == SQLITE_FULL }

    public var description: String {
        if let sql { return "SQLite error \(code): \(message) - while executing `\(sql)`" }
        return "SQLite error \(code): \(message)"
    }
}

/// `SQLITE_TRANSIENT` is a macro Swift does not import: SQLite copies the bound value.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A thin binding to one SQLite connection, used from one thread at a time.
///
/// strata uses its own binding rather than GRDB: migrations need exact control
/// of connection state that a higher-level library manages for you
/// (`PRAGMA foreign_keys` outside the transaction, `legacy_alter_table` for
/// one statement, `BEGIN IMMEDIATE` that fails at once rather than waiting),
/// and it needs nothing else that GRDB offers. See docs/DECISIONS.md.
public final class Connection: @unchecked Sendable {
    let handle: OpaquePointer
    public let path: String
    /// Held here: SQLite's authorizer callback points at it (see `Confinement`).
    let authorizer = Authorizer()

    /// The oldest SQLite strata works with: native DROP COLUMN (3.35) and
    /// `PRAGMA table_list` (3.37).
    public static let minimumVersion: Int32 = 3_037_000

    /// Process-wide settings, made once before the library initialises.
    private static let configured: Void = { _ = strata_sqlite_disable_memstatus() }()

    /// Opens (and with `create`, creates) a database file; ":memory:" for a scratch one.
    public init(path: String, readOnly: Bool = false, create: Bool = true) throws {
        _ = Connection.configured
        guard sqlite3_libversion_number() >= Connection.minimumVersion else {
            throw SQLiteError(code: SQLITE_MISUSE, message: "strata needs SQLite 3.37 or newer, and this system's is \(String(cString: sqlite3_libversion())); "
                + "install a newer libsqlite3", sql: nil)
        }
        var db: OpaquePointer?
        var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        flags |= SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: "\(message) (\(path))", sql: nil)
        }
        handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        ApplicationFunctions.register(on: db)
        installAuthorizer()
    }

    public static func memory() throws -> Connection { try Connection(path: ":memory:") }

    deinit { sqlite3_close_v2(handle) }

    /// How long a statement waits for another connection's lock (0: fail at once).
    public func setBusyTimeout(milliseconds: Int32) { sqlite3_busy_timeout(handle, milliseconds) }

    func error(_ rc: Int32, _ sql: String?) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more statements with no parameters and no results.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(code: rc, message: text, sql: sql)
        }
    }

    /// Runs one statement and returns every row.
    @discardableResult
    public func query(_ sql: String, _ arguments: [Value] = []) throws -> [[Value]] {
        var rows: [[Value]] = []
        try forEachRow(sql, arguments) { rows.append($0) }
        return rows
    }

    public func forEachRow(_ sql: String, _ arguments: [Value] = [], _ body: ([Value]) throws -> Void) throws {
        var stmt: OpaquePointer?
        var rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql) }
        defer { sqlite3_finalize(stmt) }
        for (n, value) in arguments.enumerated() {
            let i = Int32(n + 1)
            switch value {
            case .null: rc = sqlite3_bind_null(stmt, i)
            case .int(let v): rc = sqlite3_bind_int64(stmt, i, v)
            case .real(let v): rc = sqlite3_bind_double(stmt, i, v)
            case .text(let v): rc = sqlite3_bind_text(stmt, i, v, -1, transient)
            case .blob(let v): rc = v.withUnsafeBytes { sqlite3_bind_blob(stmt, i, $0.baseAddress, Int32($0.count), transient) }
            }
            guard rc == SQLITE_OK else { throw error(rc, sql) }
        }
        let columns = sqlite3_column_count(stmt)
        while true {
            rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw error(rc, sql) }
            var row: [Value] = []
            row.reserveCapacity(Int(columns))
            for c in 0..<columns {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_INTEGER: row.append(.int(sqlite3_column_int64(stmt, c)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(stmt, c)))
                case SQLITE_TEXT: row.append(.text(String(cString: sqlite3_column_text(stmt, c))))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(stmt, c))
                    if count == 0 { row.append(.blob([])) } else {
                        let p = sqlite3_column_blob(stmt, c)!
                        row.append(.blob(Array(UnsafeRawBufferPointer(start: p, count: count))))
                    }
                default: row.append(.null)
                }
            }
            try body(row)
        }
    }

    /// The first column of the first row, if any.
    public func scalar(_ sql: String, _ arguments: [Value] = []) throws -> Value? {
        var result: Value?
        try forEachRow(sql, arguments) { row in if result == nil { result = row.first } }
        return result
    }

    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Whether SQL text is one or more complete statements.
    public static func isComplete(_ sql: String) -> Bool { sqlite3_complete(sql) != 0 }

    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    /// Runs `body` in a transaction that is rolled back if it throws.
    public func transaction<T>(immediate: Bool = true, _ body: () throws -> T) throws -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if isInTransaction { try? execute("ROLLBACK") }
            throw error
        }
    }
}

extension SQLiteError: StrataError {
    public var exitStatus: ExitStatus { .usage }
    public var errorCode: String { isBusy ? "sqlite.busy" : "sqlite.error" }
}
