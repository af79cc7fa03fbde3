import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Downgrade: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "downgrade",
            abstract: "Apply the inverses of events, newest first, in one transaction.",
            discussion: "TARGET is -N, a revision (4+ hex digits), or base. The way down is derived from the events themselves.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions
        @OptionGroup var runFlags: RunFlags
        @OptionGroup var output: JSONOption

        // `.allUnrecognized`, or ArgumentParser would read `-1` as an option.
        @Argument(parsing: .allUnrecognized, help: "-N, REV or base.")
        var targets: [String] = []

        var target: String { targets.first ?? "" }

        func validate() throws {
            guard targets.count == 1 else {
                throw ValidationError(targets.isEmpty ? "missing the target: -N, REV or base" : "expected one target, got \(targets.joined(separator: " "))")
            }
        }

        @Flag(help: "Print the SQL and touch nothing.")
        var sql = false

        func run() throws {
            let p = try project.open()
            let goal = try Project.parseDowngradeTarget(target)
            let paths = try runFlags.paths(databases, in: p, command: "downgrade")
            let unchanged = goal == .base ? "already at base" : "already at the target"
            let printer = RunPrinter(paths: paths, json: output.json, describe: describeMigration("downgraded", unchanged: unchanged, several: paths.count > 1))
            let failed = try p.migrateAndReport(paths, to: .downgrade(goal), sqlOnly: sql, options: runFlags.options, observer: TerminalObserver.shared, each: printer.handle, queued: warnQueued)
            try printer.finish(failed, order: ["downgraded", unchanged, "planned"], project: p, command: sql ? nil : "downgrade")
        }
    }
}
