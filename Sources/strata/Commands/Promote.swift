import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an environment's target revision on the registry (admin token).")

        @OptionGroup var project: ProjectOptions
        @Argument(help: "The revision: head or 4+ hex digits (it must be pushed).") var revision: String
        @Option(help: "The environment, e.g. prod.") var env: String

        func run() throws {
            let p = try project.open()
            guard let id = try p.log.resolve(revision) else { throw ProjectError("base cannot be promoted; name a revision") }
            _ = try p.registryClient().setTarget(environment: env, revision: id)
            print("environment \(env) now targets \(id)")
        }
    }
}
