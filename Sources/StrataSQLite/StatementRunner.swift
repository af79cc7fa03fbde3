import Foundation
import CSQLite
import StrataCore

/// Reads a migration's SQL the way SQLite does: statement by statement on a
/// scratch database that holds the schema so far (so SQLite itself splits
/// the text, including trigger bodies and statements without a final `;`),
/// each statement's exact text handed to `visit` before it runs. `visit`
/// says whether to run it.
package enum StatementRunner {
    package enum Decision { case run, skip }

    /// `rest` gives the text after the statement (read only when asked:
    /// copying it for every statement made a long file quadratic).
    package static func each(_ text: String, on db: Connection, source: String,
                            visit: (_ sql: String, _ first: SQLToken, _ rest: () -> String, _ line: Int) throws -> Decision) throws {
        try run(text, on: db, source: source, visit: visit)
    }

    /// Text from outside is prepared and run on strata's scratch database
    /// confined (`Confinement.scratch`): it may shape that database's schema,
    /// never reach another file. What `visit` does is strata's own.
    static func run(_ text: String, on db: Connection, source: String,
                    visit: (_ sql: String, _ first: SQLToken, _ rest: () -> String, _ line: Int) throws -> Decision) throws {
        var utf8 = Array(text.utf8CString)
        try utf8.withUnsafeMutableBufferPointer { buffer in
            let start = buffer.baseAddress!
            var cursor: UnsafePointer<CChar>? = UnsafePointer(start)
            // Lines are counted from where the last count stopped.
            var line = 1
            var counted = UnsafePointer(start)
            while var current = cursor, current.pointee != 0 {
                current = startOfStatement(current)
                if current.pointee == 0 { break }
                while counted < current {
                    if counted.pointee == 10 { line += 1 }
                    counted += 1
                }
                var stmt: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let previous = db.authorizer.policy
                db.authorizer.policy = .scratch
                db.authorizer.refusal = nil
                let rc = sqlite3_prepare_v2(db.handle, current, -1, &stmt, &tail)
                db.authorizer.policy = previous
                guard rc == SQLITE_OK else { throw failure(db, source: source, line: line) }
                cursor = tail
                guard let stmt else { continue }
                defer { sqlite3_finalize(stmt) }
                let sql = SQL.trimmingTrailingSemicolons(String(cString: sqlite3_sql(stmt)))
                guard let first = (try? SQL.tokenize(sql, limit: 1))?.first else { continue }
                let rest = { tail.map { String(cString: $0) } ?? "" }
                guard try visit(sql, first, rest, line) == .run else { continue }
                db.authorizer.policy = .scratch
                let step = sqlite3_step(stmt)
                db.authorizer.policy = previous
                guard step == SQLITE_DONE || step == SQLITE_ROW else { throw failure(db, source: source, line: line) }
            }
        }
    }

    /// SQLite's message for the statement at `line`; a function SQLite does
    /// not know may be one the application registers.
    static func failure(_ db: Connection, source: String, line: Int) -> ModelsError {
        var message = String(cString: sqlite3_errmsg(db.handle))
        if sqlite3_errcode(db.handle) & 0xFF == SQLITE_AUTH, let refusal = db.authorizer.refusal { message = "refused: \(refusal)" }
        let hint = message.hasPrefix("no such function: ")
            ? " (if the application registers it on its connections, name it in strata.toml: app_functions = [\"\(message.dropFirst(18))\"])"
            : ""
        return ModelsError("\(source): statement at line \(line): \(message)\(hint)")
    }

    /// The first byte of the next statement: past white space, comments and
    /// empty statements. SQLite's prepare skips a stray `;` itself but hands
    /// back the statement's text with it in front (`;CREATE TABLE b …` after
    /// `CREATE TABLE a (…);;`), which read as a statement starting with `;`,
    /// not `CREATE`, and was left out.
    static func startOfStatement(_ p: UnsafePointer<CChar>) -> UnsafePointer<CChar> {
        var p = p
        while true {
            switch p.pointee {
            case 9, 10, 12, 13, 32, 59: p += 1  // \t \n \f \r space ;
            case 45 where p[1] == 45:  // -- to the end of the line
                while p.pointee != 0 && p.pointee != 10 { p += 1 }
            case 47 where p[1] == 42:  // /* to */ (or the end)
                p += 2
                while p.pointee != 0 && !(p.pointee == 42 && p[1] == 47) { p += 1 }
                if p.pointee != 0 { p += 2 }
            default: return p
            }
        }
    }
}
