import ArgumentParser
import StrataCore
import StrataStore
import StrataSync

extension StrataCommand {
    struct Fleet: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every node's databases, the revision each is at, and whether it is behind its environment.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let p = try project.open()
            let fleet = try p.registryClient().fleet()
            if output.json {
                printJSON(fleet)
                return
            }
            print("project \(fleet["project"]?.stringValue ?? p.config.project); registry head \(fleet["head"]?.stringValue?.short ?? "base")")
            for env in fleet["environments"]?.arrayValue ?? [] {
                print("environment \(env["name"]?.stringValue ?? "?") -> \(env["revision"]?.stringValue?.short ?? "?") (set by \(env["set_by"]?.stringValue ?? "?") at \(env["set_at"]?.stringValue ?? "?"))")
            }
            let rows = fleet["databases"]?.arrayValue ?? []
            if rows.isEmpty { print("no database has reported yet") }
            for r in rows {
                var status = ""
                if let behind = r["behind"]?.boolValue { status = behind ? "BEHIND \(r["target"]?.stringValue?.short ?? "")" : "at target" }
                let env = r["environment"]?.stringValue.map { " [\($0)]" } ?? ""
                print("\(r["node"]?.stringValue ?? "?")\t\(r["database"]?.stringValue ?? "?")\t\(r["revision"]?.stringValue?.short ?? "?")\t\(r["reported_at"]?.stringValue ?? "?")\(env) \(status)")
            }
        }
    }
}
