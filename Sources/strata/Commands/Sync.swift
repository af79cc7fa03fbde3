import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync",
            abstract: "Pull, rebase (or merge) unpushed local events onto the registry's head, push.",
            discussion: "With --apply --env ENV, then bring every configured database to ENV's target revision (up or down) and report.")

        @OptionGroup var project: ProjectOptions

        @Flag(help: "Record a merge event instead of rebasing unpushed events.")
        var merge = false

        @Flag(help: "Replace the unpushed events with one revision from the registry's head to the models file (when they conflict with the registry's).")
        var redo = false

        /// With --redo.
        @OptionGroup var renames: RenameOptions

        @Flag(help: "Migrate this node's databases to the environment's target afterwards.")
        var apply = false

        @Option(help: "The environment whose target --apply reaches.")
        var env: String?

        /// With --apply: every configured database unless --db narrows it.
        @OptionGroup var databases: DatabaseOptions
        @OptionGroup var runFlags: RunFlags
        @OptionGroup var output: JSONOption

        func validate() throws {
            if apply != (env != nil) { throw ValidationError("--apply and --env go together") }
            if merge && redo { throw ValidationError("give either --merge or --redo, not both") }
            if !renames.isEmpty && !redo { throw ValidationError("--rename goes with --redo") }
            if !apply && (!databases.db.isEmpty || databases.all || runFlags.retryFailed) {
                throw ValidationError("--db, --all and --retry-failed go with --apply")
            }
        }

        func run() throws {
            let p = try project.open()
            let syncer = try p.syncer(observer: TerminalObserver.shared)
            let r = try syncer.sync(preferMerge: merge, redo: redo ? try renames.hints() : nil, now: Clock.nowMillis)
            var parts = ["pulled \(r.pulled)"]
            if r.rebased > 0 { parts.append("rebased \(r.rebased)") }
            if let m = r.merged { parts.append("merged as \(m.short)") }
            if r.replaced > 0 {
                let what = "\(r.replaced) unpushed revision\(r.replaced == 1 ? "" : "s")"
                parts.append(r.redone.map { "replaced \(what) with \($0.short)" } ?? "dropped \(what) (the models file equals the registry's head)")
            }
            parts.append("pushed \(r.pushed)")
            if !output.json { print("\(parts.joined(separator: ", ")); registry head \(r.remoteHead?.short ?? "base")") }
            guard apply, let env else { return }
            // Every configured database unless --db names some (or --retry-failed picks them).
            let selected = DatabaseOptions(db: databases.db, all: databases.db.isEmpty && !runFlags.retryFailed)
            let paths = try runFlags.paths(selected, in: p, command: "sync --apply")
            let printer = RunPrinter(paths: paths, json: output.json,
                                     describe: describeMigration("migrated", unchanged: "already at the target", several: paths.count > 1))
            let failed = try syncer.apply(environment: env, databases: paths, options: runFlags.options,
                                          announce: { if !output.json { print("environment \(env) targets \($0.short)") } },
                                          each: printer.handle, queued: warnQueued)
            try printer.finish(failed, order: ["migrated", "already at the target"], project: p, command: "sync --apply")
        }
    }
}
