import ArgumentParser
import StrataSQLite
import StrataStore

extension StrataCommand {
    struct SchemaCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema",
            abstract: "Print the schema at a revision (default head), computed from the log alone.")

        @OptionGroup var project: ProjectOptions
        @Option(help: ArgumentHelp("The revision: head, base, or 4+ hex digits.", valueName: "REV")) var at = "head"
        @OptionGroup var output: JSONOption

        func run() throws {
            let p = try project.open()
            let id = try p.log.resolve(at)
            let schema = try p.log.state(at: id)
            if output.json {
                printJSON(schema.json)
                return
            }
            print("-- schema at \(id ?? "base")")
            for statement in DDL.script(schema) { print(statement + ";\n") }
        }
    }
}
