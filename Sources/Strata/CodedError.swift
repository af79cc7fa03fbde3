import StrataCore
import StrataSQLite

/// Every error the library throws has a stable, machine-readable code
/// (`migrate.ahead`, `database.drifted`, `migration.failed`, `bundle.invalid`):
/// match on the code, not on the text, which may be reworded.
///
/// ```swift
/// do { try migrator.migrate(databaseAt: path) } catch let error as CodedError where error.errorCode == "database.drifted" { … }
/// ```
public protocol CodedError: Error, CustomStringConvertible {
    var errorCode: String { get }
}

extension MigratorError: CodedError {}
extension BundleError: CodedError {}
// The layers below the library: their types stay inside the package, their codes do not.
extension MigrationError: CodedError {}
extension SQLiteError: CodedError {}
extension SchemaError: CodedError {}
extension HistoryError: CodedError {}
extension EventDecodingError: CodedError {}
extension InspectionError: CodedError {}
extension ConfinementRefusal: CodedError {}
extension UnsafeFragment: CodedError {}
extension SQLLexError: CodedError {}
