import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Current: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the full id of the revision the database is at (base when none).")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let p = try project.open()
            let paths = try databases.paths(in: p)
            var rows: [JSON] = []
            for path in paths {
                let revision = try p.existingDatabase(path).currentRevision()
                rows.append(.object(["database": .string(path), "revision": .string(revision ?? "base")]))
                if !output.json { print(paths.count == 1 ? revision ?? "base" : "\(path): \(revision ?? "base")") }
            }
            if output.json { printJSON(rows.count == 1 ? rows[0] : .array(rows)) }
        }
    }
}
