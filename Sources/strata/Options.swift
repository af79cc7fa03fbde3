import ArgumentParser
import Foundation
import StrataCore
import StrataStore

/// `-C DIR`: every command runs in a project directory.
struct ProjectOptions: ParsableArguments {
    @Option(name: .customShort("C"), help: ArgumentHelp("Run in DIR instead of the current directory.", valueName: "DIR"))
    var directory: String = "."

    func open() throws -> Project { try Project.open(directory: directory, defaultPython: Installation.python) }
}

/// `--db PATH` (repeatable) or `--all`.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A database (or a pattern such as 'tenants/*.db') to act on instead of the configured one (repeatable).", valueName: "PATH"))
    var db: [String] = []

    @Flag(name: .long, help: "Act on every configured database (patterns in `databases` are expanded).")
    var all = false

    init() {}

    init(db: [String], all: Bool) {
        self.db = db
        self.all = all
    }

    func validate() throws {
        if all && !db.isEmpty { throw ValidationError("give either --db or --all, not both") }
    }

    /// The selected databases; a pattern that matched nothing is a warning.
    func paths(in project: Project) throws -> [String] {
        let selection = try project.selectDatabases(db, all: all)
        selection.warnings.forEach(warn)
        return selection.paths
    }
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
