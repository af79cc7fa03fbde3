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
            let drifts = try databases.paths(in: p).map { try p.drift(of: $0) }
            if output.json {
                let reports = drifts.map { d -> JSON in
                    .object(["database": .string(d.database), "revision": .string(d.revision ?? "base"), "drift": .array(d.changes.map(JSON.string))])
                }
                printJSON(reports.count == 1 ? reports[0] : .array(reports))
            } else {
                for d in drifts {
                    if d.isClean {
                        print("\(d.database): matches \(d.revision?.short ?? "base")")
                    } else {
                        print("\(d.database): differs from \(d.revision?.short ?? "base"); to get from the recorded schema to the real one:")
                        for c in d.changes { print("  \(c)") }
                    }
                }
            }
            if drifts.contains(where: { !$0.isClean }) { throw ExitCode(ExitStatus.difference.rawValue) }
        }
    }
}
