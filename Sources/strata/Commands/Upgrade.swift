import ArgumentParser
import StrataCore
import StrataStore
import StrataSync

extension StrataCommand {
    struct Upgrade: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "upgrade",
            abstract: "Apply events to the database, in one transaction.",
            discussion: """
                TARGET is head, a revision (4+ hex digits), or +N. Over several databases (--all, patterns), each is its own \
                transaction; one that fails does not stop the others, a summary closes the run, and the exit code is 2 when any failed.
                """)

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions
        @OptionGroup var runFlags: RunFlags
        @OptionGroup var output: JSONOption

        @Argument(help: "head, REV or +N.")
        var target = "head"

        @Flag(help: "Print the SQL and touch nothing.")
        var sql = false

        @Flag(help: ArgumentHelp("Run each event's SQL as recorded, one event after another.",
                                 discussion: "By default a run plans less work than the history: each table is rebuilt at most once, and a table created in the run is created in its final shape."))
        var noCompact = false

        /// Past this many, the findings printed before a run are summed up.
        static let findingsShown = 20

        func run() throws {
            let p = try project.open()
            let goal = try Project.parseUpgradeTarget(target)
            let paths = try runFlags.paths(databases, in: p, command: "upgrade")
            let unchanged = goal == .head ? "already at head" : "already at the target"
            if !sql && !output.json {
                // What lint says about the events about to run: said before they run.
                let findings = p.pendingFindings(paths, to: goal)
                for f in findings.prefix(Upgrade.findingsShown) { printFinding(f) }
                if findings.count > Upgrade.findingsShown {
                    warn("... and \(findings.count - Upgrade.findingsShown) more findings: `strata lint --pending` lists them all")
                }
            }
            let printer = RunPrinter(paths: paths, json: output.json, describe: describeMigration("upgraded", unchanged: unchanged, several: paths.count > 1))
            var options = runFlags.options
            options.compact = !noCompact
            let failed = try p.migrateAndReport(paths, to: .upgrade(goal), sqlOnly: sql, options: options, observer: TerminalObserver.shared, each: printer.handle, queued: warnQueued)
            try printer.finish(failed, order: ["upgraded", unchanged, "planned"], project: p, command: sql ? nil : "upgrade")
        }
    }
}
