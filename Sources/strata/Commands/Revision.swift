import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Revision: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revision",
            abstract: "Record a schema change as a new event.",
            discussion: """
                With --autogenerate, diffs the models file against the schema at head. With --sql, runs hand-written DDL against a copy \
                of the head schema and records the difference. With --exec, records a data step (UPDATE, INSERT, DELETE) that runs in \
                the same transaction as the rest of an upgrade; --reverse gives the SQL that undoes it (without one, a downgrade past \
                it needs --allow-irreversible).
                """)

        @OptionGroup var project: ProjectOptions

        @Flag(help: "Diff the models file against the schema at head.")
        var autogenerate = false

        @Option(name: .shortAndLong, help: "What the change is for.")
        var message: String

        @Option(help: ArgumentHelp("Hand-written DDL to record instead of a diff.", valueName: "DDL"))
        var sql: String?

        @Option(help: ArgumentHelp("A data step: SQL that changes rows, not the schema.", valueName: "SQL"))
        var exec: String?

        @Option(help: ArgumentHelp("With --exec: the SQL that undoes the data step.", valueName: "SQL"))
        var reverse: String?

        @Flag(help: "The data this revision's ops destroy (dropped columns and tables) must never be kept in the databases for a way back.")
        var purgeDropped = false

        @Option(help: ArgumentHelp("Accept a lint finding of this revision (recorded with it; repeatable).", valueName: "CODE"))
        var accept: [String] = []

        @OptionGroup var renames: RenameOptions

        func validate() throws {
            if [autogenerate, sql != nil, exec != nil].filter({ $0 }).count != 1 {
                throw ValidationError("give exactly one of --autogenerate, --sql and --exec")
            }
            if reverse != nil && exec == nil { throw ValidationError("--reverse goes with --exec") }
            if exec != nil && !renames.isEmpty { throw ValidationError("--rename goes with --autogenerate") }
            if sql != nil && !renames.isEmpty { throw ValidationError("--rename goes with --autogenerate; with --sql write ALTER TABLE ... RENAME") }
            for code in accept where !Lint.codes.contains(where: { $0.code == code }) {
                throw ValidationError("--accept \(code): not a finding code; `strata lint --help` lists them")
            }
            if exec != nil && purgeDropped { throw ValidationError("--purge-dropped goes with --autogenerate or --sql: a data step drops no column or table") }
        }

        func run() throws {
            let p = try project.open()
            let result: Project.NewRevision
            if let exec {
                result = try p.dataStep(message: message, forward: exec, reverse: reverse, now: Clock.nowMillis, accepted: accept)
            } else if let sql {
                result = try p.handwritten(message: message, sql: sql, now: Clock.nowMillis, purgeDropped: purgeDropped, accepted: accept)
            } else {
                guard let r = try p.autogenerate(message: message, renames: try renames.hints(), now: Clock.nowMillis, purgeDropped: purgeDropped,
                                                 accepted: accept) else {
                    print("No changes detected")
                    return
                }
                result = r
            }
            print(result.event.id)
            for op in result.event.ops { print("  \(op.summary)") }
            for w in result.warnings { warn(w) }
            for f in try p.findings(of: result.event) { printFinding(f, accepted: result.event.accepted.contains(f.code)) }
        }
    }
}
