import ArgumentParser
import StrataCore
import StrataStore
import StrataSync

extension StrataCommand {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The registry's append-only record of every write: pushes, promotions, reports.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let p = try project.open()
            let audit = try p.registryClient().audit()
            if output.json {
                printJSON(audit)
                return
            }
            for r in audit["records"]?.arrayValue ?? [] {
                print("\(r["at"]?.stringValue ?? "?")  \(r["identity"]?.stringValue ?? "?")  \(r["action"]?.stringValue ?? "?")  \(r["detail"]?.canonicalString ?? "")")
            }
        }
    }
}
