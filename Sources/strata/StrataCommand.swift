import ArgumentParser
import StrataSQLite

/// The root command lists the subcommands and nothing more.
struct StrataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "An event-sourced schema history for SQLite databases.",
        version: "\(strataVersion) (\(Connection.libraryDescription))",
        subcommands: [
            Init.self, Revision.self, Import.self, Upgrade.self, Downgrade.self, Current.self, History.self, Show.self,
            SchemaCommand.self, Materialize.self, BundleCommand.self, Check.self, Verify.self, Stamp.self, Heads.self, Merge.self,
            Blame.self, Status.self, Trash.self, Keys.self, LintCommand.self, Push.self, Pull.self, Sync.self, Fleet.self, Promote.self, RolloutCommand.self, AgentCommand.self, Audit.self, Registry.self,
        ]
    )
}

/// strata's version: `strata --version`, and what ops/wheel and ops/deb name their packages after.
let strataVersion = "0.1.0"
