import Strata
import StrataCore
import StrataLog
import StrataSQLite

/// The library says what is wrong; the CLI adds which command does what
/// was meant. Every error the CLI prints goes through here.
enum Advice {
    static func message(for error: Error) -> String {
        if let e = error as? MigrationError { return message(for: e) }
        if let e = error as? LogError { return message(for: e) }
        if let e = error as? SigningError { return message(for: e) }
        if let e = error as? RenameError { return "--rename \(e.hint): \(e.problem)" }
        if let e = error as? UnsafeFragment, e.isSchemaChangeInDataStep { return e.description(remedy: "record schema changes with --sql or --autogenerate") }
        guard let e = error as? MigratorError else { return "\(error)" }
        func short(_ id: String?) -> String { id.map { String($0.prefix(12)) } ?? "base" }
        switch e {
        case .emptyHistory:
            return "the log is empty: there is no head to upgrade to; run `strata revision --autogenerate -m MESSAGE` first"
        case .severalHeads, .unknownRevision, .noDatabase, .alreadyStamped, .schemaDiffers, .atBase, .relative(.crossesMerge), .relative(.offPath):
            return "\(e)"
        case .upgradeToBase: return "upgrade goes forward; to go to base use `strata downgrade base`"
        case let .ahead(_, target): return "\(e); to go back use `strata downgrade \(short(target))`"
        case .diverged: return "\(e); downgrade it to a common ancestor first, or merge the heads"
        case .notBehind: return "\(e); use `strata upgrade` to go forward"
        case .relative(.pastHead): return "\(e); use `strata upgrade head`"
        case .relative(.pastBase): return "\(e); use `strata downgrade base`"
        }
    }

    /// A lint finding's text (or a code's meaning), with the flag that answers it.
    static func lint(_ code: String, _ text: String) -> String {
        code == "IR101" ? "\(text): a downgrade past it needs --allow-irreversible" : text
    }

    static func message(for e: MigrationError) -> String {
        switch e {
        case .notADatabase: return "\(e); remove it, or change `databases` so that it is not matched"
        case .drifted: return "\(e); `strata check` shows the difference: bring the schema back, or pass --ignore-drift to migrate it as it is"
        case let .unknownRevision(path, id):
            return "database \(path) is at revision \(id.prefix(12)), which neither the local log nor the database's own records hold; "
                + "pull from the registry, or `strata stamp` it with its real revision"
        case .irreversible: return "\(e). Pass --allow-irreversible to go past it anyway (the schema goes back; the rows it changed stay as they are)"
        case let .unfilled(id, direction, column, rows):
            return MigrationError.unfilledText(id, direction, column, rows: rows, remedy: "pass --fill VALUE to give them one")
        case .event, .locked, .moved, .foreignKeyViolations, .readOnly: return "\(e)"
        }
    }

    static func message(for e: LogError) -> String {
        switch e.reason {
        case .severalHeads:
            return "\(e); run `strata sync` to rebase or merge unpushed work onto the registry's head, or `strata merge -m MESSAGE` to join them, or name a revision"
        case .empty: return "\(e); run `strata revision --autogenerate -m MESSAGE` first"
        case .notARevision, .noMatch: return "\(e) (see `strata history`)"
        case .noLog: return "\(e); run `strata init` first"
        case .unreadable: return "\(e); run `strata verify`"
        case .other: return "\(e)"
        }
    }

    static func message(for e: SigningError) -> String {
        switch e.reason {
        case let .notASigningKey(source):
            return "\(source) is not a signing key: make one with `strata keys generate --out \(source)`, or name an OpenSSH ed25519 key"
        case .notAKeyLine: return "\(e) (a public key as `strata keys generate` prints it)"
        case .other: return "\(e)"
        }
    }
}
