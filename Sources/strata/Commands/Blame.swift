import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Blame: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Which events created and changed TABLE or TABLE.COLUMN, by whom, when.")

        @OptionGroup var project: ProjectOptions
        @Argument(help: "TABLE or TABLE.COLUMN, as named at head.") var target: String
        @OptionGroup var output: JSONOption

        func run() throws {
            let p = try project.open()
            let parts = target.split(separator: ".", maxSplits: 1).map(String.init)
            guard let head = try p.log.head() else { throw ProjectError("the log is empty: nothing to blame") }
            let events = try p.log.range(from: nil, to: head)
            let entries = StrataCore.Blame.entries(table: parts[0], column: parts.count > 1 ? parts[1] : nil, in: events)
            guard !entries.isEmpty else { throw ProjectError("no event in the history of head touches \(target)") }
            let pushed = try p.log.pushedInfo()
            if output.json {
                printJSON(.array(entries.map { entry in
                    var fields: [String: JSON] = [
                        "id": .string(entry.event.id), "author": .string(entry.event.author),
                        "timestamp": .string(Timestamp.iso8601(entry.event.timestamp)), "message": .string(entry.event.message),
                        "ops": .array(entry.ops.map { .string($0.summary) }),
                    ]
                    if let info = pushed[entry.event.id] { fields["pushed_by"] = .string(info.by) }
                    return .object(fields)
                }))
                return
            }
            for entry in entries {
                let e = entry.event
                print("\(e.id.short)  \(Timestamp.iso8601(e.timestamp))  \(e.author)  \(e.message)")
                for op in entry.ops { print("    \(op.summary)") }
            }
        }
    }
}
