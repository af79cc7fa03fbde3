import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Detect drift: exit 0 when the database's real schema equals the state at its recorded revision, 1 otherwise.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions
        @OptionGroup var runFlags: RunFlags
        @OptionGroup var output: JSONOption

        func run() throws {
            let p = try project.open()
            let paths = try runFlags.paths(databases, in: p, command: "check")
            var drifted = false
            let printer = RunPrinter(paths: paths, json: output.json, rowsOnly: true) { (d: Drift) in
                drifted = drifted || !d.isClean
                let json = JSON.object(["database": .string(d.database), "revision": .string(d.revision ?? "base"),
                                        "drift": .array(d.changes.map(JSON.string))])
                if d.isClean { return ("clean", ["\(d.database): matches \(d.revision?.short ?? "base")"], json) }
                return ("drifted", ["\(d.database): differs from \(d.revision?.short ?? "base"); to get from the recorded schema to the real one:"]
                    + d.changes.map { "  \($0)" }, json)
            }
            let failed = p.drifts(paths, options: runFlags.options, each: printer.handle)
            try printer.finish(failed, order: ["clean", "drifted"], project: p, command: "check")
            if drifted { throw ExitCode(ExitStatus.difference.rawValue) }
        }
    }
}
