import ArgumentParser
import Foundation
import StrataCore
import StrataSQLite
import StrataStore

/// `-C DIR`: every command runs in a project directory.
struct ProjectOptions: ParsableArguments {
    @Option(name: .customShort("C"), help: ArgumentHelp("Run in DIR instead of the current directory.", valueName: "DIR"))
    var directory: String = "."

    func open() throws -> Project { try Project.open(directory: directory) }
}

/// `--db PATH` (repeatable) or `--all`.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A database to act on instead of the configured one (repeatable).", valueName: "PATH"))
    var db: [String] = []

    @Flag(name: .long, help: "Act on every configured database.")
    var all = false

    func validate() throws {
        if all && !db.isEmpty { throw ValidationError("give either --db or --all, not both") }
    }

    func paths(in project: Project) throws -> [String] { try project.databasePaths(db, all: all) }
}

/// `--rename TABLE.OLD=NEW` / `--rename OLD=NEW` (repeatable): renames a
/// diff cannot guess, for `revision --autogenerate` and `sync --redo`.
struct RenameOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A rename the diff cannot guess: TABLE.OLD=NEW or OLD=NEW (repeatable).", valueName: "SPEC"))
    var rename: [String] = []

    var isEmpty: Bool { rename.isEmpty }

    func hints() throws -> RenameHints {
        var hints = RenameHints()
        for spec in rename { try hints.add(spec) }
        return hints
    }
}

struct JSONOption: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON document on stdout.")
    var json = false
}

enum Clock {
    static var nowMillis: Int64 {
        if let fixed = ProcessInfo.processInfo.environment["STRATA_NOW"], let ms = Timestamp.parse(fixed) { return ms }
        return Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}

extension Project {
    /// Who is migrating: `STRATA_USER`, else the configured author.
    var migrationContext: MigrationContext {
        let env = ProcessInfo.processInfo.environment
        return MigrationContext(appliedBy: env["STRATA_USER"] ?? config.author, node: config.node, now: Clock.nowMillis)
    }

    /// Opens a database that must exist (for commands that only read it).
    /// Read-write even so: after a migration was killed mid-transaction, SQLite
    /// must roll back its hot journal on open, which a read-only connection
    /// cannot do (SQLITE_READONLY_ROLLBACK).
    func existingDatabase(_ path: String) throws -> TargetDatabase {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ProjectError("no database at \(path); run `strata upgrade head` to create it, or pass --db")
        }
        return try TargetDatabase(path: path, create: false)
    }
}

extension String {
    var short: String { String(prefix(12)) }
}

func printJSON(_ value: JSON) { print(value.prettyString) }
