import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the ids and parent links of the whole log; exit 1 on any mismatch.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let p = try project.open()
            let problems = try p.log.verify()
            let count = try p.log.count()
            if output.json {
                printJSON(.object([
                    "ok": .bool(problems.isEmpty), "events": .int(Int64(count)),
                    "problems": .array(problems.map { .object(["seq": .int($0.seq), "id": .string($0.id), "reason": .string($0.reason)]) }),
                ]))
            } else if problems.isEmpty {
                print("ok: \(count) events, ids and links verified")
            } else {
                for problem in problems { print("MISMATCH \(problem)") }
                print("\(problems.count) problem\(problems.count == 1 ? "" : "s") in \(p.log.path)")
            }
            if !problems.isEmpty { throw ExitCode(ExitCodes.difference) }
        }
    }
}
