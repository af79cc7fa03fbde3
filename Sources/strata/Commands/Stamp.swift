import StrataSQLite
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
            let id = try p.log.resolve(revision)
            let lineage = try p.lineage(of: id)
            for path in try databases.paths(in: p) {
                let db = try TargetDatabase(path: path, create: true)
                try db.stamp(id, events: lineage, context: p.migrationContext)
                print("\(path): stamped \(id ?? "base")")
            }
        }
    }
}
