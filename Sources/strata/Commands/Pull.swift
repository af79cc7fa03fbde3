import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring in the registry's new events (incremental).")

        @OptionGroup var project: ProjectOptions

        func run() throws {
            let p = try project.open()
            let syncer = try p.syncer()
            syncer.flushOutbox()
            let n = try syncer.pull()
            print(n == 0 ? "Already up to date (registry head \(try syncer.remoteHead?.short ?? "base"))"
                  : "pulled \(n) event\(n == 1 ? "" : "s"); registry head \(try syncer.remoteHead?.short ?? "base")")
            let heads = try p.log.heads()
            if heads.count > 1 { print("the local log now has \(heads.count) heads: run `strata sync` to rebase or merge your unpushed work") }
        }
    }
}
