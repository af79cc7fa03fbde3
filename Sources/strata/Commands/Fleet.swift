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

    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an environment's target revision on the registry (admin token).")

        @OptionGroup var project: ProjectOptions
        @Argument(help: "The revision: head or 4+ hex digits (it must be pushed).") var revision: String
        @Option(help: "The environment, e.g. prod.") var env: String

        func run() throws {
            let p = try project.open()
            guard let id = try p.log.resolve(revision) else { throw ProjectError("base cannot be promoted; name a revision") }
            _ = try p.registryClient().setTarget(environment: env, revision: id)
            print("environment \(env) now targets \(id)")
        }
    }

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
