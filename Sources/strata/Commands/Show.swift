import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one event: its ops, its inverse ops and the SQL both ways.")

        @OptionGroup var project: ProjectOptions
        @Argument(help: "A revision: head or 4+ hex digits of its id.") var revision: String
        @OptionGroup var output: JSONOption

        func run() throws {
            let d = try project.open().details(of: revision)
            let e = d.event
            if output.json {
                guard case .object(var fields) = e.jsonWithID else { return }
                fields["inverse"] = .array(d.inverse.map(\.json))
                fields["upgrade_sql"] = .array(d.upgradeSQL.map(JSON.string))
                fields["downgrade_sql"] = .array(d.downgradeSQL.map(JSON.string))
                return printJSON(.object(fields))
            }
            print("revision \(e.id)")
            print("parents  \(e.parents.isEmpty ? "(root)" : e.parents.joined(separator: " "))")
            print("author   \(e.author)")
            print("date     \(Timestamp.iso8601(e.timestamp))")
            print("signed   \(e.signature.map { "by \($0.signedBy)" } ?? "no")")
            if e.purgeDropped { print("dropped  never kept (--purge-dropped): a downgrade brings the schema back without the data") }
            print("\n    \(e.message)\n")
            print("ops:")
            for op in e.ops { print("  \(op.summary)") }
            print("inverse ops:")
            for op in d.inverse { print("  \(op.summary)") }
            print("\n-- upgrade")
            for s in d.upgradeSQL { print(s + ";") }
            print("\n-- downgrade")
            for s in d.downgradeSQL { print(s + ";") }
        }
    }
}
