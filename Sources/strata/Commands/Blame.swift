import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Blame: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "blame", abstract: "Which events created and changed TABLE or TABLE.COLUMN, by whom, when.")

        @OptionGroup var project: ProjectOptions
        @Argument(help: "TABLE or TABLE.COLUMN, as named at head.") var target: String
        @OptionGroup var output: JSONOption

        func run() throws {
            let entries = try project.open().blame(target)
            if output.json {
                return printJSON(.array(entries.map { entry in
                    var fields: [String: JSON] = [
                        "id": .string(entry.event.id), "author": .string(entry.event.author),
                        "timestamp": .string(Timestamp.iso8601(entry.event.timestamp)), "message": .string(entry.event.message),
                        "ops": .array(entry.ops.map { .string($0.summary) }),
                    ]
                    if let pushed = entry.pushed { fields["pushed_by"] = .string(pushed.by) }
                    return .object(fields)
                }))
            }
            for entry in entries {
                let e = entry.event
                print("\(e.id.short)  \(Timestamp.iso8601(e.timestamp))  \(e.author)  \(e.message)")
                for op in entry.ops { print("    \(op.summary)") }
            }
        }
    }
}
