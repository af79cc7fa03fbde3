import ArgumentParser
import StrataCore
import StrataSQLite
import StrataStore

extension StrataCommand {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one event: its ops, its inverse ops and the SQL both ways.")

        @OptionGroup var project: ProjectOptions
        @Argument(help: "A revision: head or 4+ hex digits of its id.") var revision: String
        @OptionGroup var output: JSONOption

        func run() throws {
            let p = try project.open()
            guard let id = try p.log.resolve(revision) else { throw ProjectError("base is not an event; name a revision") }
            let e = try p.log.event(id)
            let before = try p.stateBefore(e)
            let after = try before.applying(e.ops)
            var up: [String] = []
            var state = before
            for op in e.ops {
                up += try Planner.statements(for: op, in: state).map(\.sql)
                try state.apply(op)
            }
            var down: [String] = []
            state = after
            for op in e.ops.inverted {
                down += try Planner.statements(for: op, in: state).map(\.sql)
                try state.apply(op)
            }
            if output.json {
                guard case .object(var fields) = e.jsonWithID else { return }
                fields["inverse"] = .array(e.ops.inverted.map(\.json))
                fields["upgrade_sql"] = .array(up.map(JSON.string))
                fields["downgrade_sql"] = .array(down.map(JSON.string))
                printJSON(.object(fields))
                return
            }
            print("revision \(e.id)")
            print("parents  \(e.parents.isEmpty ? "(root)" : e.parents.joined(separator: " "))")
            print("author   \(e.author)")
            print("date     \(Timestamp.iso8601(e.timestamp))")
            print("\n    \(e.message)\n")
            print("ops:")
            for op in e.ops { print("  \(op.summary)") }
            print("inverse ops:")
            for op in e.ops.inverted { print("  \(op.summary)") }
            print("\n-- upgrade")
            for s in up { print(s + ";") }
            print("\n-- downgrade")
            for s in down { print(s + ";") }
        }
    }
}
