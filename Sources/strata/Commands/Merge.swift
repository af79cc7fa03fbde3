import ArgumentParser
import StrataStore

extension StrataCommand {
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "merge", abstract: "Join two heads with a merge event.")

        @OptionGroup var project: ProjectOptions
        @Option(name: .shortAndLong, help: "What the merge is for.") var message: String

        func run() throws {
            let p = try project.open()
            let e = try p.merge(message: message, now: Clock.nowMillis)
            print(e.id)
        }
    }
}
