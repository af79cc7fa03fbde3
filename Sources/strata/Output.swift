import Foundation
import StrataCore
import StrataSQLite
import StrataStore

/// How `upgrade`, `downgrade` and `sync --apply` print what happened to each database.
func printOutcome(_ outcome: MigrationOutcome) {
    switch outcome {
    case let .script(_, script):
        print(script, terminator: "")
    case let .unchanged(path, _, true):
        print("-- \(path) is already there")
    case let .unchanged(path, revision, false):
        print("\(path): already at \(revision?.short ?? "base")")
    case let .migrated(path, plan):
        var last: String?
        for item in plan.items where item.event != nil && item.event != last {
            last = item.event
            print("  \(item.direction == .up ? "up  " : "down") \(item.event!.short)  \(item.message)")
        }
        print("\(path): \(plan.fromRevision?.short ?? "base") -> \(plan.toRevision?.short ?? "base")")
    }
}

/// Says that a report to the registry waits in the outbox, and why.
func warnQueued(_ database: String, _ error: Error) {
    warn("the report for \(database) is queued and will be sent by a later command: \(error)")
}

/// Prints to stderr (warnings, progress that is not the command's output).
func warn(_ text: String) {
    FileHandle.standardError.write(Data("warning: \(text)\n".utf8))
}

func printJSON(_ value: JSON) { print(value.prettyString) }

extension String {
    var short: String { String(prefix(12)) }
}
