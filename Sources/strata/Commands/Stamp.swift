import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Stamp: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stamp",
            abstract: "Record REV in the database without running anything (adopt an existing database).")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions
        @OptionGroup var runFlags: RunFlags
        @OptionGroup var output: JSONOption
        @Argument(help: "head, base or 4+ hex digits.") var revision: String

        func run() throws {
            let p = try project.open()
            let paths = try runFlags.paths(databases, in: p, command: "stamp")
            let printer = RunPrinter(paths: paths, json: output.json) { (stamped: (database: String, revision: String?)) in
                ("stamped", ["\(stamped.database): stamped \(stamped.revision ?? "base")"],
                 .object(["database": .string(stamped.database), "outcome": "stamped", "revision": .string(stamped.revision ?? "base")]))
            }
            let failed = try p.stamp(paths, at: revision, options: runFlags.options, each: printer.handle)
            try printer.finish(failed, order: ["stamped"], project: p, command: "stamp")
        }
    }
}
