import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pull", abstract: "Bring in the registry's new events (incremental).")

        @OptionGroup var project: ProjectOptions

        func run() throws {
            let r = try project.open().syncer(observer: TerminalObserver.shared).pullAndReport()
            let head = r.remoteHead?.short ?? "base"
            print(r.pulled == 0 ? "Already up to date (registry head \(head))" : "pulled \(r.pulled) event\(r.pulled == 1 ? "" : "s"); registry head \(head)")
            if r.localHeads > 1 { print("the local log now has \(r.localHeads) heads: run `strata sync` to rebase or merge your unpushed work") }
        }
    }
}
