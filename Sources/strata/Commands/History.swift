import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "history", abstract: "List events, newest first.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: JSONOption

        @Option(help: "Show only the newest N events.")
        var limit: Int?

        func validate() throws {
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() throws {
            let entries = try project.open().history(limit: limit)
            if output.json {
                return printJSON(.array(entries.map { entry in
                    guard case .object(var fields) = entry.event.jsonWithID else { return entry.event.jsonWithID }
                    fields["summary"] = .array(entry.event.ops.map { .string($0.summary) })
                    if let pushed = entry.pushed {
                        fields["pushed_by"] = .string(pushed.by)
                        fields["pushed_at"] = .string(pushed.at)
                    }
                    return .object(fields)
                }))
            }
            if entries.isEmpty { print("(no revisions yet)") }
            for entry in entries {
                let e = entry.event
                var line = "\(e.id.short)"
                if entry.isHead { line += " (head)" }
                if e.parents.count > 1 { line += " merge \(e.parents.map(\.short).joined(separator: " + "))" }
                line += "  \(Timestamp.iso8601(e.timestamp))  \(e.author)"
                if let pushed = entry.pushed { line += "  pushed by \(pushed.by) at \(pushed.at)" }
                print(line)
                if let signature = e.signature { print("    signed by \(signature.signedBy)") }
                print("    \(e.message)")
                for op in e.ops { print("      \(op.summary)") }
            }
        }
    }
}
