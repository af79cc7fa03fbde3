import ArgumentParser
import Foundation
import StrataStore

extension StrataCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Turn another tool's migration folder into events, one per migration.",
            discussion: """
                FORMAT is diesel, golang-migrate, dbmate, flyway, sqitch, drizzle, prisma, sqlx, goose, popx, numbered or alembic \
                (each one's order rule: README, "Adopting"). Each migration's up SQL runs against the \\
                state it starts from: schema statements become ops (renames stay renames), row statements become data steps, in order. \\
                An Alembic project (the folder with alembic.ini) is run by Alembic itself, revision by revision, on a scratch SQLite \\
                database, with the project's Python (`python` in strata.toml). The folder's own downs are not imported: strata derives \\
                its own; --check-downs runs them on a scratch database and reports on each, recording nothing. The same folder and \\
                author give the same event ids. A function the application registers on its connections is declared with \
                `app_functions` in strata.toml.
                """)

        @OptionGroup var project: ProjectOptions
        @Argument(help: "diesel, golang-migrate, dbmate, flyway, sqitch, drizzle, prisma, sqlx, goose, popx, numbered or alembic.") var format: String
        @Argument(help: "The folder of migrations (for alembic, the folder with alembic.ini).") var dir: String
        @Option(help: ArgumentHelp("The revision the folder builds on (default: head).", valueName: "REV")) var onto: String?
        @Option(help: "Who the events are by (default: the configured author).") var author: String?
        @Flag(help: "Run the folder's own downs on a scratch database and report whether each returns to the state before its up. Records nothing.")
        var checkDowns = false
        @Flag(help: "With --check-downs: print the report as JSON.") var json = false

        func run() throws {
            guard let kind = ImportFormat(rawValue: format) else {
                throw ValidationError("unknown format \(format); one of \(ImportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let p = try project.open()
            let progress = isatty(2) == 1 ? Progress(total: 0) : nil
            if kind == .alembic && progress != nil {
                // Alembic runs first, revision by revision, with no count to show yet.
                FileHandle.standardError.write(Data("running the Alembic project on a scratch SQLite database...\r".utf8))
            }
            func show(_ done: Int, _ total: Int) {
                progress?.total = total
                progress?.update(done: done, failed: 0)
            }
            if checkDowns { return try reportDowns(p.checkDowns(kind, p.path(dir), onto: onto, progress: show), kind) }
            let s = try p.importFolder(kind, p.path(dir), onto: onto, author: author, progress: show)
            progress?.clear()
            for warning in s.warnings { warn(warning) }
            print("imported \(s.migrations) migration\(s.migrations == 1 ? "" : "s") as \(s.events.count) event\(s.events.count == 1 ? "" : "s")"
                + " (\(s.renames) rename\(s.renames == 1 ? "" : "s") kept, \(s.dataSteps) data step\(s.dataSteps == 1 ? "" : "s"), "
                + "\(s.skipped.count) skipped with nothing to record)")
            for skipped in s.skipped { print("  skipped \(skipped)") }
            if let head = s.events.last { print("head \(head)") }
        }

        func reportDowns(_ checks: [DownCheck], _ kind: ImportFormat) throws {
            if json {
                return printJSON(.object(["format": .string(kind.rawValue), "downs": .array(checks.map { c in
                    switch c.verdict {
                    case .returns: return .object(["migration": .string(c.migration), "verdict": .string("returns")])
                    case .differs(let d): return .object(["migration": .string(c.migration), "verdict": .string("differs"), "differences": .array(d.map { .string($0) })])
                    case .fails(let e): return .object(["migration": .string(c.migration), "verdict": .string("fails"), "error": .string(e)])
                    case .missing: return .object(["migration": .string(c.migration), "verdict": .string("missing")])
                    }
                })]))
            }
            guard kind.hasDowns else {
                print("\(kind.rawValue) keeps no downs: its migrations only go forward. strata derives each event's way down; nothing recorded")
                return
            }
            print("the downs of \(checks.count) \(kind.rawValue) migration\(checks.count == 1 ? "" : "s"), each run on a scratch database right after its up:")
            for c in checks {
                switch c.verdict {
                case .returns: print("  returns  \(c.migration)")
                case .differs(let d): print("  differs  \(c.migration): still changed after it: \(d.joined(separator: "; "))")
                case .fails(let e): print("  fails    \(c.migration): \(e)")
                case .missing: print("  missing  \(c.migration)")
                }
            }
            func count(_ v: (DownVerdict) -> Bool) -> Int { checks.filter { v($0.verdict) }.count }
            print("\(count { $0 == .returns }) return, \(count { if case .differs = $0 { return true } else { return false } }) differ, "
                + "\(count { if case .fails = $0 { return true } else { return false } }) fail, \(count { $0 == .missing }) missing.")
            print("Nothing recorded: strata derives each event's way down; run without --check-downs to import")
        }
    }
}
