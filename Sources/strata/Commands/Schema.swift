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
            let (id, schema) = try project.open().schema(at: at)
            if output.json { return printJSON(schema.json) }
            print("-- schema at \(id ?? "base")")
            for statement in DDL.script(schema) { print(statement + ";\n") }
        }
    }
}
