import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Heads: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "heads", abstract: "List the log's heads (more than one after concurrent work).")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let heads = try project.open().headEvents()
            if output.json {
                return printJSON(.array(heads.map { .object(["id": .string($0.id), "message": .string($0.message), "author": .string($0.author)]) }))
            }
            for e in heads { print("\(e.id)  \(e.message)") }
            if heads.count > 1 { print("\(heads.count) heads: run `strata merge -m MESSAGE` to join them") }
        }
    }
}
