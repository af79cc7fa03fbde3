import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Detect drift: exit 0 when the database's real schema equals the state at its recorded revision, 1 otherwise.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let p = try project.open()
            var drifted = false
            var reports: [JSON] = []
            for path in try databases.paths(in: p) {
                let db = try p.existingDatabase(path)
                let revision = try db.currentRevision()
                let source = try p.source(for: db)
                if let revision, !(try source.contains(revision)) {
                    throw ProjectError("database \(path) is at revision \(revision.short), which neither the local log nor the database's own records hold; pull it first")
                }
                let expected = try source.state(at: revision)
                let actual = try db.schema()
                let changes = expected == actual ? [] : ((try? expected.diff(to: actual)).map { $0.map(\.summary) } ?? ["the schema differs in a way strata cannot describe"])
                drifted = drifted || !changes.isEmpty
                reports.append(.object(["database": .string(path), "revision": .string(revision ?? "base"),
                                        "drift": .array(changes.map(JSON.string))]))
                if !output.json {
                    if changes.isEmpty {
                        print("\(path): matches \(revision?.short ?? "base")")
                    } else {
                        print("\(path): differs from \(revision?.short ?? "base"); to get from the recorded schema to the real one:")
                        for c in changes { print("  \(c)") }
                    }
                }
            }
            if output.json { printJSON(reports.count == 1 ? reports[0] : .array(reports)) }
            if drifted { throw ExitCode(ExitCodes.difference) }
        }
    }
}
