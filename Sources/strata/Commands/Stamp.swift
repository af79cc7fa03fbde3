import ArgumentParser
import StrataStore

extension StrataCommand {
    struct Stamp: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record REV in the database without running anything (adopt an existing database).")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions
        @Argument(help: "head, base or 4+ hex digits.") var revision: String

        func run() throws {
            let p = try project.open()
            try p.stamp(try databases.paths(in: p), at: revision) { path, id in print("\(path): stamped \(id ?? "base")") }
        }
    }
}
