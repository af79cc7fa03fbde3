import ArgumentParser
import Foundation
import StrataCore
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
