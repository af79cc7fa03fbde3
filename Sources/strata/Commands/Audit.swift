import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "audit", abstract: "The registry's append-only record of every write: pushes, promotions, reports.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let audit = try project.open().registryClient().audit()
            if output.json { return printJSON(audit.json) }
            for r in audit.records { print("\(r.at)  \(r.identity)  \(r.action)  \(r.detail.canonicalString)") }
        }
    }
}
