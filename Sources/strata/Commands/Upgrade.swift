import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Upgrade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply events to the database, in one transaction.",
            discussion: "TARGET is head, a revision (4+ hex digits), or +N.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions

        @Argument(help: "head, REV or +N.")
        var target = "head"

        @Flag(help: "Print the SQL and touch nothing.")
        var sql = false

        func run() throws {
            let p = try project.open()
            let goal = try Project.parseUpgradeTarget(target)
            try p.migrateAndReport(try databases.paths(in: p), to: .upgrade(goal), sqlOnly: sql, each: printOutcome, queued: warnQueued)
        }
    }
}
