import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Current: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "current", abstract: "Print the full id of the revision the database is at (base when none).")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let p = try project.open()
            let rows = try p.currentRevisions(try databases.paths(in: p))
            if output.json {
                let objects = rows.map { JSON.object(["database": .string($0.database), "revision": .string($0.revision ?? "base")]) }
                return printJSON(objects.count == 1 ? objects[0] : .array(objects))
            }
            for row in rows { print(rows.count == 1 ? row.revision ?? "base" : "\(row.database): \(row.revision ?? "base")") }
        }
    }
}
