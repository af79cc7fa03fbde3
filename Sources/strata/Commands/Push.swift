import ArgumentParser
import StrataStore
import StrataSync

extension StrataCommand {
    struct Push: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "push", abstract: "Send the events the registry lacks; refused (exit 3) if the registry's head moved.")

        @OptionGroup var project: ProjectOptions

        func run() throws {
            let result = try project.open().syncer(observer: TerminalObserver.shared).publish()
            if result.pushed == 0 {
                print("Everything up to date (registry head \(result.head?.short ?? "base"))")
            } else {
                print("pushed \(result.pushed) event\(result.pushed == 1 ? "" : "s"); registry head \(result.head?.short ?? "base")")
            }
        }
    }
}
