import Foundation
import StrataCore
import StrataSQLite
import StrataStore

/// Says that a report to the registry waits in the outbox, and why.
func warnQueued(_ databases: [String], _ error: Error) {
    let what = databases.count == 1 ? "the report for \(databases[0]) is" : "the reports for \(databases.count) databases are"
    warn("\(what) queued and will be sent by a later command: \(error)")
}

/// Prints to stderr (warnings, progress that is not the command's output).
func warn(_ text: String) {
    FileHandle.standardError.write(Data("warning: \(text)\n".utf8))
}

func printJSON(_ value: JSON) { print(value.prettyString) }

extension String {
    var short: String { String(prefix(12)) }
}

/// A lint finding on stderr, as `revision` and `upgrade` print them:
/// `warning: DS102 (3c718fe955b7, op 2): column users.nick is dropped ...`.
func printFinding(_ f: Finding, accepted: Bool = false) {
    let level = accepted ? "accepted" : f.level.rawValue
    let place = f.op >= 0 ? "\(f.event.short), op \(f.op + 1)" : f.event.short
    FileHandle.standardError.write(Data("\(level): \(f.code) (\(place)\(f.database.map { ", \($0)" } ?? "")): \(Advice.lint(f.code, f.message))\n".utf8))
}
