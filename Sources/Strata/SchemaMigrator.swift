import Foundation
import StrataCore
import StrataSQLite

/// Brings a SQLite database to a revision of a ``SchemaHistory``.
///
/// ```swift
/// let migrator = SchemaMigrator(history: history)
/// let result = try migrator.migrate(databaseAt: path, to: .head, ifAhead: .downgrade)
/// ```
///
/// A run is one transaction: it reaches the target or leaves the database
/// exactly as it was (schema, rows, recorded revision). With a `budget`, it
/// commits after each event instead, so that it can stop in time and go on
/// at the next launch.
///
/// The database records its revision, its applied history and a copy of
/// every event it ran (`strata_version`, `strata_history`,
/// `strata_events`), and keeps what destructive steps remove
/// (`strata_trash`) so that their inverses bring it back.
public struct SchemaMigrator: Sendable {
    /// Which revision to go to.
    public enum Target: Hashable, Sendable {
        /// The history's newest revision.
        case head
        /// No revision: every table of the history dropped.
        case base
        /// A full id, or a unique prefix of 4 or more hex digits.
        case revision(String)
    }

    /// What to do with a database that is past the target: one that a newer
    /// build of the app migrated, when an older build opens it.
    public enum AheadPolicy: Hashable, Sendable {
        /// Walk it down to the target with the events and inverses the
        /// database itself stores. What that drops is kept in its trash, so
        /// that the newer build brings it back when it opens the database.
        case downgrade
        /// Throw ``MigratorError/ahead(database:target:)``, touching nothing.
        case refuse
        /// Leave it as it is (``MigrationResult/Status/leftAhead``).
        case leave
    }

    public let history: SchemaHistory
    /// Keep the rows and values that destructive steps remove, so that their
    /// inverses bring them back (on by default).
    public var keepsDroppedData = true
    /// Migrate a database whose schema differs from its recorded revision
    /// (off by default: such a run throws, touching nothing).
    public var ignoresDrift = false
    /// How long a run waits for a lock another connection holds.
    public var lockTimeout: Duration = .seconds(5)
    /// An SQL literal (`0`, `'unknown'`) for the rows of a NOT NULL column a
    /// way back restores that have nothing kept: rows the newer schema
    /// inserted after it dropped the column. Without it such a run throws
    /// (`migration.unfilled`), touching nothing.
    public var fill: String?

    /// Refuses events before they run (the CLI's `trusted_keys`).
    package var trust: (@Sendable ([Event]) throws -> Void)?
    /// Plan less work than the history (see `Compactor`); a budgeted run
    /// compacts within an event only.
    package var compacts = true
    package var allowsIrreversible = false
    /// Leaves out of drift what something else manages (`exclude`).
    package var managedElsewhere: (@Sendable (Schema) -> Schema)?

    public init(history: SchemaHistory) {
        self.history = history
    }

    /// Migrates the database at `path`, creating it when there is none.
    ///
    /// - Parameters:
    ///   - path: The database file.
    ///   - target: Where to go (``Target/head`` by default).
    ///   - ifAhead: What to do when the database is past the target.
    ///   - appliedBy: Who is migrating, for the database's history rows.
    ///   - node: Which machine or install, for the same rows.
    ///   - budget: How long the run may take. Past it, the run stops after
    ///     the event it is in and returns ``MigrationResult/Status/incomplete(remaining:)``;
    ///     the database is consistent at that event, and the next call goes
    ///     on. A budgeted run commits once per event.
    ///   - progress: Called after each event is done (inside the run's
    ///     transaction, unless there is a budget).
    /// - Throws: ``MigratorError`` when the way is refused; a migration
    ///   error (with an `errorCode`) when a step fails. Either way nothing
    ///   was changed (with a budget: nothing of the event that failed).
    @discardableResult
    public func migrate(databaseAt path: String, to target: Target = .head, ifAhead: AheadPolicy = .refuse,
                        appliedBy: String = "app", node: String = "", budget: Duration? = nil,
                        progress: ((MigrationProgress) -> Void)? = nil) throws -> MigrationResult {
        let db = try TargetDatabase(path: path, create: true, waitSeconds: lockTimeout.seconds)
        return try migrate(db, to: target, ifAhead: ifAhead, appliedBy: appliedBy, node: node, budget: budget, progress: progress)
    }

    /// Migrates the database of a connection the app opened (`sqlite3 *`,
    /// as SQLite's C API hands it), with the parameters of
    /// ``migrate(databaseAt:to:ifAhead:appliedBy:node:budget:progress:)``.
    ///
    /// Ownership: the app keeps the connection. strata does not close it and
    /// must be its only user for the call (no other thread, no open
    /// transaction). During the call strata sets `PRAGMA foreign_keys = OFF`
    /// (restored after) and its own authorizer (removed after: one the app
    /// had set is not restored). The busy timeout is the app's.
    @discardableResult
    public func migrate(connection handle: OpaquePointer, to target: Target = .head, ifAhead: AheadPolicy = .refuse,
                        appliedBy: String = "app", node: String = "", budget: Duration? = nil,
                        progress: ((MigrationProgress) -> Void)? = nil) throws -> MigrationResult {
        let db = TargetDatabase(connection: Connection(borrowing: handle))
        return try migrate(db, to: target, ifAhead: ifAhead, appliedBy: appliedBy, node: node, budget: budget, progress: progress)
    }

    /// What a run would execute, as a script for the sqlite3 shell; nil
    /// when the database is at the target already (or is ahead and
    /// `ifAhead` is not ``AheadPolicy/downgrade``). Touches nothing, and
    /// creates no file.
    public func plan(databaseAt path: String, to target: Target = .head, ifAhead: AheadPolicy = .refuse) throws -> MigrationScript? {
        let db = FileManager.default.fileExists(atPath: path)
            ? try TargetDatabase(path: path, create: false) : try TargetDatabase(path: ":memory:")
        guard case .route(let route) = try way(for: db, to: target, ifAhead: ifAhead) else { return nil }
        let planned = try plan(route, for: db, context: context(appliedBy: "app", node: ""))
        return MigrationScript(plan: planned)
    }

    /// How the database's schema differs from the one its recorded revision
    /// says it has; nil when they match.
    public func drift(databaseAt path: String) throws -> SchemaDrift? {
        guard FileManager.default.fileExists(atPath: path) else { throw MigratorError.noDatabase(path) }
        let found = try drift(of: try TargetDatabase(path: path, create: false))
        return found.changes.isEmpty ? nil : found
    }

    /// The revision the database at `path` records; nil for base, or for a
    /// database strata never migrated.
    public func revision(ofDatabaseAt path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { throw MigratorError.noDatabase(path) }
        return try TargetDatabase(path: path, create: false).currentRevision()
    }

    /// Adopts a database that something else made (GRDB's migrator, by
    /// hand): records `revision` without running anything, once its schema
    /// is exactly the state there. A database strata already migrated is
    /// refused.
    ///
    /// - Throws: ``MigratorError/schemaDiffers(revision:changes:)`` naming
    ///   the differences when the schema is not that state; nothing is
    ///   written then.
    public func stamp(databaseAt path: String, at revision: Target, appliedBy: String = "app", node: String = "") throws {
        guard FileManager.default.fileExists(atPath: path) else { throw MigratorError.noDatabase(path) }
        let db = try TargetDatabase(path: path, create: false, waitSeconds: lockTimeout.seconds)
        if let current = try db.currentRevision() { throw MigratorError.alreadyStamped(current) }
        let id = try self.revision(of: revision, source: source(for: db))
        let keep = managedElsewhere ?? { $0 }
        let changes = keep(try history.store.state(at: id)).differences(to: keep(try db.schema()))
        guard changes.isEmpty else { throw MigratorError.schemaDiffers(revision: id, changes: changes) }
        try db.stamp(id, events: try lineage(of: id), context: context(appliedBy: appliedBy, node: node))
    }

    /// Writes a new database whose schema is the state at `id`, stamped
    /// there with copies of the events that lead to it (`strata
    /// materialize`). `file` must not exist; a failure leaves none.
    package func materialize(_ id: String?, to file: String, context: MigrationContext) throws {
        do {
            let db = try TargetDatabase(path: file, create: true)
            try db.create(try history.store.state(at: id))
            try db.stamp(id, events: try lineage(of: id), context: context)
        } catch {
            try? FileManager.default.removeItem(atPath: file)
            throw error
        }
    }

    package func drift(of db: TargetDatabase) throws -> SchemaDrift {
        let source = source(for: db)
        let revision = try db.currentRevision()
        if let revision, !(try source.contains(revision)) { throw MigrationError.unknownRevision(db.path, revision) }
        let expected = try source.state(at: revision), real = try db.schema()
        let keep = managedElsewhere ?? { $0 }
        return SchemaDrift(revision: revision, changes: keep(expected).differences(to: keep(real)))
    }

    package func context(appliedBy: String, node: String, now: Int64 = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))) -> MigrationContext {
        var context = MigrationContext(appliedBy: appliedBy, node: node, now: now, allowIrreversible: allowsIrreversible)
        context.keepDroppedData = keepsDroppedData
        context.compact = compacts
        context.fill = fill
        return context
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
