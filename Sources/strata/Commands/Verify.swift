import ArgumentParser
import StrataStore

extension StrataCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the ids and parent links of the whole log; exit 1 on any mismatch.")

        @OptionGroup var project: ProjectOptions

        func run() throws {
            let p = try project.open()
            let problems = try p.log.verify()
            if problems.isEmpty {
                print("ok: \(try p.log.count()) events, ids and links verified")
                return
            }
            for problem in problems { print("MISMATCH \(problem)") }
            print("\(problems.count) problem\(problems.count == 1 ? "" : "s") in \(p.log.path)")
            throw ExitCode(ExitCodes.difference)
        }
    }
}
