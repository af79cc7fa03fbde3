import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Fleet: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every node's databases, the revision each is at, and whether it is behind its environment.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let fleet = try project.open().registryClient().fleet()
            if output.json { return printJSON(fleet.json) }
            print("project \(fleet.project); registry head \(fleet.head?.short ?? "base")")
            for env in fleet.environments {
                print("environment \(env.name) -> \(env.revision.short) (set by \(env.setBy) at \(env.setAt))")
            }
            if fleet.databases.isEmpty { print("no database has reported yet") }
            for d in fleet.databases {
                let status = d.behind.map { $0 ? "BEHIND \(d.target?.short ?? "")" : "at target" } ?? ""
                let env = d.report.environment.map { " [\($0)]" } ?? ""
                print("\(d.report.node)\t\(d.report.database)\t\(d.report.revision.short)\t\(d.reportedAt)\(env) \(status)")
            }
        }
    }
}
