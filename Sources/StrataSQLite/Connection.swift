import CSQLite
import StrataCore
import Foundation

/// A value read from or bound to SQLite.
package enum Value: Hashable, Sendable {
    case null
    case int(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    package var string: String? {
        switch self {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .real(let d): return String(d)
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        case .null: return nil
        }
    }

    package var int: Int64? {
        switch self {
        case .int(let i): return i
        case .text(let s): return Int64(s)
        default: return nil
        }
    }

    package var bytes: [UInt8]? {
        switch self {
        case .blob(let b): return b
        case .text(let s): return Array(s.utf8)
        default: return nil
        }
    }
}

/// An SQLite error, with the statement that caused it.
package struct SQLiteError: Error, CustomStringConvertible, Sendable {
    package let code: Int32
    package let message: String
    package let sql: String?

    package var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }
    /// The disk (or the database's size limit) is full.
    package var isFull: Bool { code & 0xFF == SQLITE_FULL }

    package var description: String {
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
package final class Connection: @unchecked Sendable {
    let handle: OpaquePointer
    package let path: String
    /// Held here: SQLite's authorizer callback points at it (see `Confinement`).
    let authorizer = Authorizer()
    /// A connection the application opened and still owns: strata neither
    /// closes it nor changes its settings beyond a run.
    let borrowed: Bool

    /// The oldest SQLite strata works with: native DROP COLUMN (3.35) and
    /// `PRAGMA table_list` (3.37).
    package static let minimumVersion: Int32 = 3_037_000

    /// Process-wide settings, made once before the library initialises.
    private static let configured: Void = { _ = strata_sqlite_disable_memstatus() }()

    /// Opens (and with `create`, creates) a database file; ":memory:" for a scratch one.
    package init(path: String, readOnly: Bool = false, create: Bool = true) throws {
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
        borrowed = false
        sqlite3_extended_result_codes(db, 1)
        ApplicationFunctions.register(on: db)
        installAuthorizer()
    }

    package static func memory() throws -> Connection { try Connection(path: ":memory:") }

    /// Works on a connection the application opened. The application keeps
    /// it: strata does not close it, and removes its authorizer (which
    /// replaced any the application had set) when this object goes.
    package init(borrowing handle: OpaquePointer) {
        _ = Connection.configured
        self.handle = handle
        path = sqlite3_db_filename(handle, "main").map { String(cString: $0) } ?? ""
        borrowed = true
        installAuthorizer()
    }

    deinit {
        if borrowed { sqlite3_set_authorizer(handle, nil, nil) } else { sqlite3_close_v2(handle) }
    }

    /// How long a statement waits for another connection's lock (0: fail at once).
    package func setBusyTimeout(milliseconds: Int32) { sqlite3_busy_timeout(handle, milliseconds) }

    func error(_ rc: Int32, _ sql: String?) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more statements with no parameters and no results.
    package func execute(_ sql: String) throws {
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
    package func query(_ sql: String, _ arguments: [Value] = []) throws -> [[Value]] {
        var rows: [[Value]] = []
        try forEachRow(sql, arguments) { rows.append($0) }
        return rows
    }

    package func forEachRow(_ sql: String, _ arguments: [Value] = [], _ body: ([Value]) throws -> Void) throws {
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
    package func scalar(_ sql: String, _ arguments: [Value] = []) throws -> Value? {
        var result: Value?
        try forEachRow(sql, arguments) { row in if result == nil { result = row.first } }
        return result
    }

    package var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Whether SQL text is one or more complete statements.
    package static func isComplete(_ sql: String) -> Bool { sqlite3_complete(sql) != 0 }

    package static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    /// The shared library SQLite's code was loaded from, or nil when it is
    /// linked into this executable (the release build links Debian's
    /// libsqlite3.a, so that the packages need no libsqlite3.so).
    package static var sharedLibraryPath: String? {
        #if os(Linux)
        // The mappings name every shared library loaded; a static SQLite is in none.
        // Read to the end: String(contentsOfFile:) stops after the first page of a /proc file.
        guard let data = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() else { return nil }
        let maps = String(decoding: data, as: UTF8.self)
        return maps.split(separator: "\n").lazy.compactMap { $0.split(separator: " ").last }
            .first { $0.contains("/libsqlite3") }.map(String.init)
        #else
        return "the system's libsqlite3"
        #endif
    }

    /// Which SQLite this process runs, for `--version`: "SQLite 3.40.1, linked in"
    /// or "SQLite 3.40.1 from /lib/x86_64-linux-gnu/libsqlite3.so.0".
    package static var libraryDescription: String {
        "SQLite \(libraryVersion)" + (sharedLibraryPath.map { " from \($0)" } ?? ", linked in")
    }

    /// Runs `body` in a transaction that is rolled back if it throws.
    package func transaction<T>(immediate: Bool = true, _ body: () throws -> T) throws -> T {
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
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { isBusy ? "sqlite.busy" : "sqlite.error" }
}
