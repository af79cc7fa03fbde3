import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Recompute the ids and parent links of the whole log and check every signature; exit 1 on any mismatch.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: JSONOption

        @Flag(help: "An unsigned event is a problem too.")
        var requireSignatures = false

        @Option(help: ArgumentHelp("With --require-signatures: only this revision and what builds on it must be signed.", valueName: "REV"))
        var since: String?

        func validate() throws {
            if since != nil && !requireSignatures { throw ValidationError("--since goes with --require-signatures") }
        }

        func run() throws {
            let v = try project.open().verifyLog(requireSignatures: requireSignatures, since: since)
            if output.json {
                printJSON(.object([
                    "ok": .bool(v.problems.isEmpty), "events": .int(Int64(v.events)),
                    "problems": .array(v.problems.map { .object(["seq": .int($0.seq), "id": .string($0.id), "reason": .string($0.reason)]) }),
                ]))
            } else if v.problems.isEmpty {
                print("ok: \(v.events) events, ids, links and signatures verified")
            } else {
                for problem in v.problems { print("MISMATCH \(problem)") }
                print("\(v.problems.count) problem\(v.problems.count == 1 ? "" : "s") in \(v.location)")
            }
            if !v.problems.isEmpty { throw ExitCode(ExitStatus.difference.rawValue) }
        }
    }
}
