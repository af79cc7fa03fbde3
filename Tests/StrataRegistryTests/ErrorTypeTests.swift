import StrataLog
import StrataCore
import StrataRegistry
import StrataSQLite
import StrataStore
import StrataSync
import StrataWire
import XCTest

/// Every error type strata throws declares its exit status and code: one
/// that loses its `StrataError` conformance would reach the user as a usage
/// error with a pointer to --help (as `ModelsError` once did in a refactor).
final class ErrorTypeTests: XCTestCase {
    func testEveryErrorTypeIsAStrataError() throws {
        let errors: [Error] = [
            SchemaError("x"), HistoryError("x"), EventDecodingError("x"), ModelsError("x"), InspectionError("x"),
            MigrationError.locked("a.db"), ConfigError("x"), LogError(.corrupt, "x"), ProjectError("x"),
            TransportError(code: 7, message: "x"), SyncError.notConfigured, RegistryError.invalid("x"), WireError("x"),
            { do { _ = try JSON.parse("{"); return ProjectError("parsed") } catch { return error } }(),
            { do { _ = try SQL.tokenize("'open"); return ProjectError("lexed") } catch { return error } }(),
            { do { _ = try Connection.memory().execute("nonsense"); return ProjectError("ran") } catch { return error } }(),
        ]
        for error in errors {
            let strata = try XCTUnwrap(error as? StrataError, "\(type(of: error))")
            XCTAssertFalse(strata.errorCode.isEmpty, "\(type(of: error))")
        }
        XCTAssertEqual(errors.map { "\(type(of: $0))" }.suffix(3), ["JSONParseError", "SQLLexError", "SQLiteError"])
        XCTAssertEqual(LogError(.corrupt, "x").exitStatus, .difference)
        XCTAssertEqual(SyncError.conflict(head: nil, "x").exitStatus, .conflict)
        XCTAssertEqual(SyncError.notConfigured.exitStatus, .usage)
        XCTAssertEqual(TransportError(code: 7, message: "x").exitStatus, .unreachable)
    }
}
