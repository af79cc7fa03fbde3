import ArgumentParser
import Foundation
import StrataCore
import StrataStore

extension StrataCommand {
    struct LintCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lint",
            abstract: "Find what an event would break before it runs; exit 1 on an error-level finding.",
            discussion: """
                REV lints one revision (default: head); A..B what comes after A up to B; --pending what `upgrade head` would run \\
                on each configured database. Data-dependent findings (MF) come from a dry run of the upgrade on each database, \\
                in a transaction that is rolled back. Codes:
                """ + "\n" + Lint.codes.map { "  \($0.code) \($0.level.rawValue): \(Advice.lint($0.code, $0.meaning))" }.joined(separator: "\n"))

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("A revision, or A..B.", valueName: "REV")) var revision: String?
        @Flag(help: "Lint what `upgrade head` would run on each configured database.") var pending = false
        @Option(help: ArgumentHelp("Leave this finding code out of this run (repeatable).", valueName: "CODE")) var ignore: [String] = []

        func validate() throws {
            if pending && revision != nil { throw ValidationError("give a revision or --pending, not both") }
            for code in ignore where !Lint.codes.contains(where: { $0.code == code }) {
                throw ValidationError("--ignore \(code): not a finding code; `strata lint --help` lists them")
            }
        }

        func run() throws {
            let p = try project.open()
            let selection: LintSelection
            if pending {
                selection = .pending
            } else if let revision, let dots = revision.range(of: "..") {
                selection = .range(from: String(revision[..<dots.lowerBound]), to: String(revision[dots.upperBound...]))
            } else {
                selection = .revision(revision ?? "head")
            }
            let report = try p.lint(selection, databases: try databases.paths(in: p), ignoring: Set(ignore))
            func json(_ f: Finding, accepted: Bool) -> JSON {
                .object(["code": .string(f.code), "level": .string(f.level.rawValue), "event": .string(f.event),
                         "op": f.op >= 0 ? .int(Int64(f.op + 1)) : .null, "message": .string(Advice.lint(f.code, f.message)),
                         "database": f.database.map(JSON.string) ?? .null, "accepted": .bool(accepted)])
            }
            if output.json {
                printJSON(.object([
                    "events": .int(Int64(report.events)),
                    "findings": .array(report.findings.map { json($0, accepted: false) } + report.accepted.map { json($0, accepted: true) }),
                    "uncounted": .array(report.uncounted.map { .object(["database": .string($0.database), "reason": .string($0.reason)]) }),
                    "errors": .int(Int64(report.errors)),
                ]))
            } else {
                for f in report.findings.sorted(by: { ($0.level, $1.code) > ($1.level, $0.code) }) { printLine(f, accepted: false) }
                for f in report.accepted { printLine(f, accepted: true) }
                for u in report.uncounted { print("note: rows of \(u.database) not counted: \(u.reason)") }
                let warnings = report.findings.count - report.errors
                print("\(report.events) event\(report.events == 1 ? "" : "s"): \(report.errors) error\(report.errors == 1 ? "" : "s"), "
                    + "\(warnings) warning\(warnings == 1 ? "" : "s")\(report.accepted.isEmpty ? "" : ", \(report.accepted.count) accepted")")
            }
            if report.errors > 0 { throw ExitCode(ExitStatus.difference.rawValue) }
        }

        func printLine(_ f: Finding, accepted: Bool) {
            let place = f.op >= 0 ? "\(f.event.short) op \(f.op + 1)" : f.event.short
            print("\(accepted ? "accepted" : f.level.rawValue) \(f.code) \(place)\(f.database.map { " \($0)" } ?? ""): \(Advice.lint(f.code, f.message))")
        }
    }
}
