import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(
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

        func validate() throws {
            if apply != (env != nil) { throw ValidationError("--apply and --env go together") }
            if merge && redo { throw ValidationError("give either --merge or --redo, not both") }
            if !renames.isEmpty && !redo { throw ValidationError("--rename goes with --redo") }
        }

        func run() throws {
            let syncer = try project.open().syncer()
            let r = try syncer.sync(preferMerge: merge, redo: redo ? try renames.hints() : nil, now: Clock.nowMillis)
            var parts = ["pulled \(r.pulled)"]
            if r.rebased > 0 { parts.append("rebased \(r.rebased)") }
            if let m = r.merged { parts.append("merged as \(m.short)") }
            if r.replaced > 0 {
                let what = "\(r.replaced) unpushed revision\(r.replaced == 1 ? "" : "s")"
                parts.append(r.redone.map { "replaced \(what) with \($0.short)" } ?? "dropped \(what) (the models file equals the registry's head)")
            }
            parts.append("pushed \(r.pushed)")
            print("\(parts.joined(separator: ", ")); registry head \(r.remoteHead?.short ?? "base")")
            guard apply, let env else { return }
            try syncer.apply(environment: env, announce: { print("environment \(env) targets \($0.short)") },
                             each: printOutcome, queued: warnQueued)
        }
    }
}
