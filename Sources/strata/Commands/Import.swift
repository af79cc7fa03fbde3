import ArgumentParser
import Foundation
import StrataStore

extension StrataCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn another tool's migration folder into events, one per migration.",
            discussion: """
                FORMAT is diesel, golang-migrate, dbmate, flyway, sqitch or drizzle. Each migration's up SQL runs against the state it \\
                starts from: schema statements become ops (renames stay renames), row statements become data steps, in order. The \\
                folder's own downs are not imported: strata derives its own. The same folder and author give the same event ids.
                """)

        @OptionGroup var project: ProjectOptions
        @Argument(help: "diesel, golang-migrate, dbmate, flyway, sqitch or drizzle.") var format: String
        @Argument(help: "The folder of migrations.") var dir: String
        @Option(help: ArgumentHelp("The revision the folder builds on (default: head).", valueName: "REV")) var onto: String?
        @Option(help: "Who the events are by (default: the configured author).") var author: String?

        func run() throws {
            guard let kind = ImportFormat(rawValue: format) else {
                throw ValidationError("unknown format \(format); one of \(ImportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let p = try project.open()
            let progress = isatty(2) == 1 ? Progress(total: 0) : nil
            let s = try p.importFolder(kind, p.path(dir), onto: onto, author: author) { done, total in
                progress?.total = total
                progress?.update(done: done, failed: 0)
            }
            progress?.clear()
            print("imported \(s.migrations) migration\(s.migrations == 1 ? "" : "s") as \(s.events.count) event\(s.events.count == 1 ? "" : "s")"
                + " (\(s.renames) rename\(s.renames == 1 ? "" : "s") kept, \(s.dataSteps) data step\(s.dataSteps == 1 ? "" : "s"), "
                + "\(s.skipped.count) skipped with nothing to record)")
            for skipped in s.skipped { print("  skipped \(skipped)") }
            if let head = s.events.last { print("head \(head)") }
        }
    }
}
