import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Fleet: ParsableCommand {
        /// Past this many databases on one node, its databases are summarised by revision.
        static let listedAtMost = 20

        static let configuration = CommandConfiguration(commandName: "fleet", abstract: "Every node's databases, the revision each is at, and whether it is behind its environment.")

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
            // A node with many databases (one per tenant) is shown by revision.
            let many = Set(fleet.nodes.filter { s in s.revisions.reduce(0) { $0 + $1.databases } > Self.listedAtMost }.map(\.node))
            for s in fleet.nodes where many.contains(s.node) {
                let parts = s.revisions.map { r in "\(r.databases) at \(r.revision.short)" + (r.behind > 0 ? " (\(r.behind) BEHIND)" : "") }
                print("\(s.node)\t\(parts.joined(separator: ", "))")
            }
            for d in fleet.databases where !many.contains(d.report.node) {
                var status = d.behind.map { $0 ? "BEHIND \(d.target?.short ?? "")" : "at target" } ?? ""
                if d.report.drifted == true { status += status.isEmpty ? "DRIFTED" : ", DRIFTED" }
                let env = d.report.environment.map { " [\($0)]" } ?? ""
                print("\(d.report.node)\t\(d.report.database)\t\(d.report.revision.short)\t\(d.reportedAt) by \(d.reportedBy)\(env) \(status)")
            }
        }
    }
}
