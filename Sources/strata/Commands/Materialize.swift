import ArgumentParser
import StrataStore

extension StrataCommand {
    struct Materialize: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "materialize", abstract: "Create a new database file whose schema is the state at REV.")

        @OptionGroup var project: ProjectOptions
        @Argument(help: "The revision: head or 4+ hex digits.") var revision: String
        @Option(help: ArgumentHelp("The file to create; it must not exist.", valueName: "FILE")) var out: String

        func run() throws {
            let p = try project.open()
            let file = p.path(out)
            let id = try p.materialize(revision, to: file)
            print("\(file): materialized at \(id ?? "base")")
        }
    }
}
