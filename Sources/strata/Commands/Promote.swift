import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "promote", abstract: "Set an environment's target revision on the registry (admin token).")

        @OptionGroup var project: ProjectOptions
        @Argument(help: "The revision: head or 4+ hex digits (it must be pushed).") var revision: String
        @Option(help: "The environment, e.g. prod.") var env: String

        func run() throws {
            let target = try project.open().promote(revision, environment: env)
            print("environment \(env) now targets \(target.revision)")
        }
    }
}
