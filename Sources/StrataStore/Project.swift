import Foundation
import Synchronization
import StrataLog
import StrataCore
import StrataSQLite

/// A refusal of a project command, with what to do instead.
package struct ProjectError: Error, CustomStringConvertible, Sendable {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

extension ProjectError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "project.refused" }
}

/// One strata project: its settings, its log and its databases. The CLI's
/// commands are thin calls into this type, whose concerns live in their own
/// files: `Project+Revisions` (writing events), `Project+Planning` (the way
/// from a database's revision to a target), `Project+Migrations` (running
/// plans over databases), `Project+Reading` (history, schema, drift, verify).
package final class Project {
    package let root: URL
    package let config: Config
    package let log: any SyncLog
    /// Plans made during this command, by goal and starting revision.
    var planCache: [String: MigrationPlan?] = [:]
    var loadedSigningKey: SigningKey??
    var loadedTrustedKeys: TrustedKeys??
    /// The Python that renders SQLAlchemy models and runs Alembic revisions:
    /// `python` in strata.toml, else the caller's default (the CLI passes the
    /// virtualenv's interpreter when strata was installed into one).
    package let python: String

    /// A project over any log (the SQLite file in use, memory in unit tests).
    package init(root: URL, config: Config, log: any SyncLog, defaultPython: String = "python3") {
        self.root = root
        self.config = config
        self.log = log
        self.python = config.python ?? defaultPython
        // Every connection from here on can prepare the application's functions.
        ApplicationFunctions.declare(config.appFunctions)
    }

    /// Opens the project whose `strata.toml` is in `directory`.
    package static func open(directory: String, defaultPython: String = "python3") throws -> Project {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let configPath = root.appendingPathComponent(Config.fileName).path
        guard let text = try? String(contentsOfFile: configPath, encoding: .utf8) else {
            throw ProjectError("no \(Config.fileName) in \(root.path); run `strata init` there, or pass -C DIR")
        }
        let config = try Config(toml: text, source: configPath)
        let log = try SQLiteEventLog(path: resolve(config.log, in: root))
        return Project(root: root, config: config, log: log, defaultPython: defaultPython)
    }

    /// Creates `strata.toml`, the local log and (if missing) an empty models file.
    package static func initialize(directory: String, config: Config, defaultPython: String = "python3") throws -> Project {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let fm = FileManager.default
        let configPath = root.appendingPathComponent(Config.fileName).path
        var config = config
        var adopting = false
        // A trusted-keys file that cannot be read stops here, before anything is written.
        if let trust = config.trustedKeys { _ = try TrustedKeys.load(path: resolve(trust, in: root)) }
        if fm.fileExists(atPath: configPath) {
            // A checked-in strata.toml (a fresh clone): keep it, create the local log.
            guard let text = try? String(contentsOfFile: configPath, encoding: .utf8) else {
                throw ProjectError("cannot read \(configPath)")
            }
            config = try Config(toml: text, source: configPath)
            guard !fm.fileExists(atPath: resolve(config.log, in: root)) else {
                throw ProjectError("\(configPath) exists already: this directory is a strata project")
            }
            adopting = true
        }
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        let modelsPath = resolve(config.models, in: root)
        if !fm.fileExists(atPath: modelsPath) {
            try fm.createDirectory(atPath: (modelsPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let template = config.models.hasSuffix(".py")
                ? "# The desired schema, as SQLAlchemy models; strata renders their MetaData for SQLite.\n"
                    + "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n"
                : "-- The desired schema, as plain SQLite DDL (CREATE TABLE, INDEX, VIEW, TRIGGER).\n"
            try template.write(toFile: modelsPath, atomically: true, encoding: .utf8)
        }
        let logPath = resolve(config.log, in: root)
        try fm.createDirectory(atPath: (logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let log = try SQLiteEventLog(path: logPath, create: true)
        if !adopting { try config.toml.write(toFile: configPath, atomically: true, encoding: .utf8) }
        return Project(root: root, config: config, log: log, defaultPython: defaultPython)
    }

    static func resolve(_ path: String, in root: URL) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return expanded }
        return root.appendingPathComponent(expanded).standardizedFileURL.path
    }

    /// A path relative to the project's root, made absolute.
    package func path(_ relative: String) -> String { Project.resolve(relative, in: root) }

    /// The name a database is reported under: its path relative to the project.
    package func databaseName(_ path: String) -> String {
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    // MARK: - Databases

    /// The databases a command acts on: the `--db` entries, every configured
    /// entry with `--all`, else the first configured one. Entries may be
    /// patterns (`tenants/*.db`, `data/**/*.sqlite`), expanded in a stable
    /// order; strata's own log and SQLite's `-wal`, `-journal` and `-shm`
    /// files are never taken for databases. A pattern that matches nothing is
    /// a warning. Without `--db` or `--all`, a first entry that matches
    /// several databases is refused: which one was meant?
    package func selectDatabases(_ overrides: [String], all: Bool) throws -> DatabaseSelection {
        let entries: [String]
        if !overrides.isEmpty {
            entries = overrides
        } else {
            guard !config.databases.isEmpty else {
                throw ProjectError("no database is configured: pass --db PATH or add `databases = [\"app.db\"]` to \(Config.fileName)")
            }
            entries = all ? config.databases : [config.databases[0]]
        }
        let logPath = path(config.log)
        var selection = DatabaseSelection(paths: [], warnings: [])
        var seen = Set<String>()
        for entry in entries {
            // A newline in a path would start a fake line in every listing and log of it.
            guard HiddenText.isPrintable(entry) else {
                throw ProjectError("the database path \(HiddenText.escaped(entry)) holds a control or bidirectional character; rename the file")
            }
            let absolute = path(entry)
            guard Glob.isPattern(entry) else {
                guard absolute != logPath else { throw ProjectError("\(entry) is strata's own log, not a database to migrate") }
                if seen.insert(absolute).inserted { selection.paths.append(absolute) }
                continue
            }
            var matches = Glob.expand(absolute).filter { path in
                path != logPath && !["-wal", "-journal", "-shm"].contains { path.hasSuffix($0) }
            }
            for hidden in matches where !HiddenText.isPrintable(hidden) {
                selection.warnings.append("skipped \(HiddenText.escaped(hidden)): its name holds a control or bidirectional character; rename the file")
            }
            matches.removeAll { !HiddenText.isPrintable($0) }
            if matches.isEmpty { selection.warnings.append("\(entry) matches no database") }
            if overrides.isEmpty && !all && matches.count > 1 {
                throw ProjectError("\(entry) matches \(matches.count) databases; pass --all to act on every one, or --db PATH for one")
            }
            for m in matches where seen.insert(m).inserted { selection.paths.append(m) }
        }
        return selection
    }

    /// Opens a database that must exist (for commands that only read it).
    /// Read-write even so: after a migration was killed mid-transaction, SQLite
    /// must roll back its hot journal on open, which a read-only connection
    /// cannot do (SQLITE_READONLY_ROLLBACK).
    package func existingDatabase(_ path: String) throws -> TargetDatabase {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ProjectError("no database at \(path); run `strata upgrade head` to create it, or pass --db")
        }
        return try TargetDatabase(path: path, create: false)
    }

    /// The key of `signing_key`, read once; nil when the node does not sign.
    package func signingKey() throws -> SigningKey? {
        if let loaded = loadedSigningKey { return loaded }
        guard let file = config.signingKey else { loadedSigningKey = .some(nil); return nil }
        let full = path(file)
        guard let text = try? String(contentsOfFile: full, encoding: .utf8) else {
            throw ProjectError("cannot read signing_key \(full); make one with `strata keys generate --out \(file)`, or fix `signing_key` in \(Config.fileName)")
        }
        let key = try SigningKey(fileText: text, source: full)
        loadedSigningKey = .some(key)
        return key
    }

    /// `event` signed with this node's key (as it is without one).
    package func signed(_ event: Event) throws -> Event {
        guard let key = try signingKey() else { return event }
        return try key.sign(event)
    }

    /// Who is migrating (the invoking user, else the configured author), on
    /// which node, and when.
    package var migrationContext: MigrationContext {
        var context = MigrationContext(appliedBy: Invocation.user ?? config.author, node: config.node, now: Clock.nowMillis)
        context.keepDroppedData = config.keepDroppedData
        return context
    }
}

/// The databases a command acts on, and what is worth saying about how
/// they were found (a pattern that matched nothing).
package struct DatabaseSelection: Sendable {
    package var paths: [String]
    package var warnings: [String]
}

/// The time strata records: a fixed time when the CLI was given one
/// (`STRATA_NOW`, for tests and reproducible demos), else now, in UTC milliseconds.
package enum Clock {
    private static let fixed = Atomic<Int64>(Int64.min)
    package static func fix(at ms: Int64) { fixed.store(ms, ordering: .relaxed) }
    package static var nowMillis: Int64 {
        let ms = fixed.load(ordering: .relaxed)
        if ms != Int64.min { return ms }
        return Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}

/// Who is running the command, when the CLI was told (`STRATA_USER`), and
/// the registry token it was handed (`STRATA_TOKEN`): what the layers below
/// the CLI would otherwise read from the environment, which they do not.
package enum Invocation {
    private static let state = Mutex<(user: String?, token: String?)>((nil, nil))
    package static func set(user: String?, token: String?) { state.withLock { $0 = (user, token) } }
    package static var user: String? { state.withLock { $0.user } }
    package static var token: String? { state.withLock { $0.token } }
}
