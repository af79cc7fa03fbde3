/// How a strata command ends (docs/CONTRACT.md, "Exit codes").
package enum ExitStatus: Int32, Sendable, CaseIterable {
    case done = 0
    /// A check found a difference (`check`, `verify`), or the log is corrupt.
    case difference = 1
    /// Usage or input error: the command refused and changed nothing.
    case usage = 2
    /// A conflict with the registry (a push on a stale head, diverged work).
    case conflict = 3
    /// The registry is unreachable, or refused the token or its role.
    case unreachable = 4
}

/// Every error strata throws declares how the command ends and a stable,
/// machine-readable code (`--json` output, the registry's error bodies), so
/// a new error type cannot fall through to a guessed exit code: it must
/// conform, and conforming means stating both.
package protocol StrataError: Error, CustomStringConvertible {
    var exitStatus: ExitStatus { get }
    /// Dotted and lowercase, e.g. `log.conflict`; never reworded once released.
    var errorCode: String { get }
}

extension SchemaError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "schema.precondition" }
}

extension HistoryError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "history.invalid" }
}

extension SQLLexError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "sql.lex" }
}

extension JSONParseError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "json.malformed" }
}

extension EventDecodingError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "event.invalid" }
}
