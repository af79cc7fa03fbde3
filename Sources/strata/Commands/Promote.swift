import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "promote", abstract: "Set an environment's target revision on the registry (admin token).")

        @OptionGroup var project: ProjectOptions
        @Argument(help: "The revision: head or 4+ hex digits (it must be pushed).") var revision: String
        @Option(help: "The environment, e.g. prod.") var env: String
        @Flag(help: "Promote to a revision behind the current target even though its schema drops tables or columns (the nodes keep their rows in the trash).")
        var allowBackward = false

        func run() throws {
            let target = try project.open().promote(revision, environment: env, allowBackward: allowBackward)
            print("environment \(env) now targets \(target.revision)")
        }
    }
}
