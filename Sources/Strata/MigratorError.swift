import StrataCore

/// Why a migration was refused before anything ran. The database is as it
/// was. Revisions are full ids (nil for base).
public enum MigratorError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The history has no event: there is no head to go to.
    case emptyHistory
    /// The history has several heads, and a run to `.head` cannot choose.
    case severalHeads([String])
    /// A revision the history does not name (none, or several, start so).
    case unknownRevision(String, candidates: Int)
    /// The database is past the target: a newer history migrated it.
    case ahead(database: String, target: String?)
    /// The database is on a branch that does not lead to the target.
    case diverged(database: String, target: String)
    /// A downgrade to a revision that is not behind the database's.
    case notBehind(target: String, database: String)
    /// A downgrade of a database at base.
    case atBase
    /// An upgrade to base (base is behind every revision).
    case upgradeToBase
    /// A stamp of a database whose schema is not the state at the revision.
    case schemaDiffers(revision: String?, changes: [String])
    /// A stamp of a database that records a revision already.
    case alreadyStamped(String)
    /// No database file at this path (for reading).
    case noDatabase(String)
    /// `+N` or `-N` that cannot be counted along one line of events.
    case relative(Relative)

    public enum Relative: Equatable, Sendable {
        /// `+N` would cross a merge.
        case crossesMerge(Int)
        /// The database is not on the path to head.
        case offPath(Int)
        /// `+N` with the database only `behind` events below head.
        case pastHead(Int, behind: Int)
        /// `-N` with the database only `above` events above base.
        case pastBase(Int, above: Int)
    }

    public var description: String {
        func short(_ id: String?) -> String { id.map { String($0.prefix(12)) } ?? "base" }
        switch self {
        case .emptyHistory: return "the history is empty: there is no head to go to"
        case let .severalHeads(heads): return "the history has \(heads.count) heads (\(heads.map(short).joined(separator: ", "))); name a revision"
        case let .unknownRevision(r, candidates):
            return candidates > 1 ? "\(r) is ambiguous: it starts \(candidates) revisions; give more digits"
                : "\(r) is not a revision of this history: name one by head, base, or 4 or more hex digits of its id"
        case let .ahead(database, target): return "the database is at \(short(database)), past \(short(target))"
        case let .diverged(database, target):
            return "the database is at \(short(database)), on a branch that does not lead to \(short(target))"
        case let .notBehind(target, database): return "\(short(target)) is not behind the database's revision \(short(database))"
        case let .noDatabase(path): return "no database at \(path)"
        case let .schemaDiffers(revision, changes):
            return "the database's schema is not the state at \(short(revision)) (\(changes.joined(separator: "; "))), so nothing was stamped"
        case let .alreadyStamped(id): return "the database records revision \(short(id)) already: migrate it instead of stamping it"
        case .atBase: return "the database is at base: there is nothing to downgrade"
        case .upgradeToBase: return "an upgrade goes forward, and base is behind every revision"
        case let .relative(r):
            switch r {
            case let .crossesMerge(n): return "+\(n) would cross a merge; name the revision instead"
            case let .offPath(n): return "the database is not on the path to head; name a revision instead of +\(n)"
            case let .pastHead(n, behind): return "cannot upgrade \(n) revisions: the database is \(behind) below head"
            case let .pastBase(n, above): return "cannot downgrade \(n) revisions: the database is only \(above) above base"
            }
        }
    }
}

extension MigratorError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    /// A stable, machine-readable code (`migrate.ahead`, say).
    public var errorCode: String {
        switch self {
        case .emptyHistory: return "migrate.empty_history"
        case .severalHeads: return "migrate.several_heads"
        case .unknownRevision: return "migrate.unknown_revision"
        case .ahead: return "migrate.ahead"
        case .diverged: return "migrate.diverged"
        case .notBehind: return "migrate.not_behind"
        case .noDatabase: return "migrate.no_database"
        case .schemaDiffers: return "migrate.schema_differs"
        case .alreadyStamped: return "migrate.already_stamped"
        case .atBase: return "migrate.at_base"
        case .upgradeToBase: return "migrate.upgrade_to_base"
        case .relative: return "migrate.relative"
        }
    }
}
