import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List events, newest first.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: JSONOption

        @Option(help: "Show only the newest N events.")
        var limit: Int?

        func validate() throws {
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() throws {
            let p = try project.open()
            let events = Array(try p.log.allEvents().reversed().prefix(limit ?? Int.max))
            let heads = Set(try p.log.heads())
            let pushed = try p.log.pushedInfo()
            if output.json {
                printJSON(.array(events.map { e in
                    guard case .object(var fields) = e.jsonWithID else { return e.jsonWithID }
                    fields["summary"] = .array(e.ops.map { .string($0.summary) })
                    if let info = pushed[e.id] {
                        fields["pushed_by"] = .string(info.by)
                        fields["pushed_at"] = .string(info.at)
                    }
                    return .object(fields)
                }))
                return
            }
            if events.isEmpty { print("(no revisions yet)") }
            for e in events {
                var line = "\(e.id.short)"
                if heads.contains(e.id) { line += " (head)" }
                if e.parents.count > 1 { line += " merge \(e.parents.map(\.short).joined(separator: " + "))" }
                line += "  \(Timestamp.iso8601(e.timestamp))  \(e.author)"
                if let info = pushed[e.id] { line += "  pushed by \(info.by) at \(info.at)" }
                print(line)
                print("    \(e.message)")
                for op in e.ops { print("      \(op.summary)") }
            }
        }
    }
}
