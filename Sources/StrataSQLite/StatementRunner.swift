import Foundation
import CSQLite
import StrataCore

/// Reads a migration's SQL the way SQLite does: statement by statement on a
/// scratch database that holds the schema so far (so SQLite itself splits
/// the text, including trigger bodies and statements without a final `;`),
/// each statement's exact text handed to `visit` before it runs. `visit`
/// says whether to run it.
public enum StatementRunner {
    public enum Decision { case run, skip }

    public static func each(_ text: String, on db: Connection, source: String,
                            visit: (_ sql: String, _ first: SQLToken, _ rest: String, _ line: Int) throws -> Decision) throws {
        var utf8 = Array(text.utf8CString)
        try utf8.withUnsafeMutableBufferPointer { buffer in
            let start = buffer.baseAddress!
            var cursor: UnsafePointer<CChar>? = UnsafePointer(start)
            while var current = cursor, current.pointee != 0 {
                while [9, 10, 13, 32].contains(current.pointee) { current += 1 }
                if current.pointee == 0 { break }
                let line = 1 + UnsafeBufferPointer(start: UnsafePointer(start), count: current - UnsafePointer(start)).filter { $0 == 10 }.count
                var stmt: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let rc = sqlite3_prepare_v2(db.handle, current, -1, &stmt, &tail)
                guard rc == SQLITE_OK else {
                    throw ModelsError("\(source): statement at line \(line): \(String(cString: sqlite3_errmsg(db.handle)))")
                }
                cursor = tail
                guard let stmt else { continue }
                defer { sqlite3_finalize(stmt) }
                let sql = SQL.trimmingTrailingSemicolons(String(cString: sqlite3_sql(stmt)).trimmingCharacters(in: [" ", "\n", "\t", "\r"]))
                guard let first = (try? SQL.tokenize(sql))?.first else { continue }
                let rest = tail.map { String(cString: $0) } ?? ""
                guard try visit(sql, first, rest, line) == .run else { continue }
                let step = sqlite3_step(stmt)
                guard step == SQLITE_DONE || step == SQLITE_ROW else {
                    throw ModelsError("\(source): statement at line \(line): \(String(cString: sqlite3_errmsg(db.handle)))")
                }
            }
        }
    }
}
