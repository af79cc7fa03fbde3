import ArgumentParser
import Foundation
import StrataSQLite
import StrataStore

extension StrataCommand {
    struct Materialize: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a new database file whose schema is the state at REV.")

        @OptionGroup var project: ProjectOptions
        @Argument(help: "The revision: head or 4+ hex digits.") var revision: String
        @Option(help: ArgumentHelp("The file to create; it must not exist.", valueName: "FILE")) var out: String

        func run() throws {
            let p = try project.open()
            let id = try p.log.resolve(revision)
            let path = p.path(out)
            guard !FileManager.default.fileExists(atPath: path) else {
                throw ProjectError("\(path) exists; materialize writes a new file only (remove it or pick another name)")
            }
            do {
                let db = try TargetDatabase(path: path, create: true)
                try db.create(try p.log.state(at: id))
                try db.stamp(id, events: try p.lineage(of: id), context: p.migrationContext)
            } catch {
                try? FileManager.default.removeItem(atPath: path)
                throw error
            }
            print("\(path): materialized at \(id ?? "base")")
        }
    }
}
