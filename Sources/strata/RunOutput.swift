import ArgumentParser
import Foundation
import StrataCore
import StrataSQLite
import StrataStore

/// `--jobs`, `--fail-fast`, `--ignore-drift`, `--wait`, `--retry-failed`:
/// how a command goes over several databases.
struct RunFlags: ParsableArguments {
    @Option(help: "Databases worked on at once (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Stop at the first database that fails (the others are not attempted).")
    var failFast = false

    @Flag(help: "Migrate a database even when its schema differs from its recorded revision.")
    var ignoreDrift = false

    @Option(help: ArgumentHelp("Wait up to SECONDS for a database another process has locked (default: refuse at once).", valueName: "SECONDS"))
    var wait: Double = 0

    @Flag(help: "Act only on the databases that failed in the last run of this command.")
    var retryFailed = false

    @Flag(help: "Go past data steps recorded without reverse SQL (their rows stay as they are).")
    var allowIrreversible = false

    @Option(help: ArgumentHelp("A value for the rows of a restored NOT NULL column that have none kept (a number, else text).", valueName: "VALUE"))
    var fill: String?

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if wait < 0 { throw ValidationError("--wait must not be negative") }
    }

    var options: RunOptions {
        var o = RunOptions()
        o.jobs = jobs
        o.failFast = failFast
        o.ignoreDrift = ignoreDrift
        o.waitSeconds = wait
        o.allowIrreversible = allowIrreversible
        o.fill = fill.map { Double($0) != nil ? $0 : SQL.literal($0) }
        return o
    }

    /// The databases to act on: the selection, or with --retry-failed the
    /// ones the last run of `command` left failed. Warnings are printed.
    func paths(_ databases: DatabaseOptions, in project: Project, command: String) throws -> [String] {
        if retryFailed {
            guard databases.db.isEmpty && !databases.all else { throw ValidationError("--retry-failed picks the databases itself: drop --db and --all") }
            let failed = try project.lastFailures(of: command)
            guard !failed.isEmpty else { throw StrataFailure("the last `strata \(command)` left no failed database to retry") }
            return failed
        }
        return try databases.paths(in: project)
    }
}

/// A refusal decided by the CLI itself.
struct StrataFailure: StrataError {
    let message: String
    init(_ message: String) { self.message = message }
    var exitStatus: ExitStatus { .usage }
    var errorCode: String { "usage" }
    var description: String { message }
}

/// Prints what a run over databases does: for one database, the detailed
/// lines and its error as the command's own; for several, one line each
/// (never interleaved), a progress line on a terminal, and a summary. With
/// --json, one document at the end.
final class RunPrinter<Value> {
    let total: Int
    let json: Bool
    let progress: Progress?
    private(set) var succeeded: [String: Int] = [:]
    private var rows: [(index: Int, json: JSON)] = []
    private var failures: [FailureKind: Int] = [:]
    private let order: [String: Int]
    let describe: (Value) -> (key: String, line: [String], json: JSON)
    /// `check --json` keeps the shape it had before runs over many
    /// databases: one database's object, or an array of them.
    let rowsOnly: Bool

    /// `describe` gives, for a result, the word it is counted under in the
    /// summary ("upgraded"), its lines of output, and its JSON.
    init(paths: [String], json: Bool, rowsOnly: Bool = false, describe: @escaping (Value) -> (key: String, line: [String], json: JSON)) {
        total = paths.count
        self.json = json
        self.rowsOnly = rowsOnly
        self.describe = describe
        // Only a JSON document needs the rows in path order (and keeps them).
        order = json ? Dictionary(paths.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }) : [:]
        progress = paths.count > 1 && !json && isatty(2) == 1 ? Progress(total: paths.count) : nil
    }

    func handle(_ result: Result<Value, DatabaseFailure>) {
        switch result {
        case .success(let value):
            let d = describe(value)
            succeeded[d.key, default: 0] += 1
            if json { rows.append((order[describedDatabase(d.json)] ?? rows.count, d.json)) } else { progress?.clear(); d.line.forEach { print($0) } }
        case .failure(let f):
            failures[f.kind, default: 0] += 1
            if json {
                rows.append((order[f.database] ?? rows.count, .object([
                    "database": .string(f.database), "outcome": "failed", "reason": .string(f.kind.rawValue),
                    "code": .string((f.error as? StrataError)?.errorCode ?? "error"), "error": .string(Advice.message(for: f.error)),
                ])))
            } else if total > 1 {
                progress?.clear()
                // Each line names its database (a migration's own error names only the event).
                let message = Advice.message(for: f.error)
                let line = message.contains(f.database) ? message : "\(f.database): \(message)"
                FileHandle.standardError.write(Data("error: \(line)\n".utf8))
            }
        }
        progress?.update(done: succeeded.values.reduce(0, +) + failures.values.reduce(0, +), failed: failures.values.reduce(0, +))
    }

    /// Ends the run: with one database its failure is the command's error;
    /// else a summary (or the JSON document), and exit 2 when any failed.
    func finish(_ failed: [DatabaseFailure], order keys: [String], project: Project, command: String?) throws {
        progress?.clear()
        // For --retry-failed; a run over one database has nothing to retry
        // and leaves the log as it was.
        if let command {
            let remembered = try project.lastFailures(of: command)
            if total > 1 || !remembered.isEmpty { try project.rememberFailures(failed.map(\.database), of: command) }
        }
        let rows = self.rows.sorted { $0.index < $1.index }.map(\.json)
        if json && rowsOnly {
            printJSON(rows.count == 1 ? rows[0] : .array(rows))
        } else if json {
            let parts = keys.filter { (succeeded[$0] ?? 0) > 0 }.map { ($0, JSON.int(Int64(succeeded[$0]!))) }
            var summary = Dictionary(uniqueKeysWithValues: parts)
            summary["failed"] = .int(Int64(failed.count))
            printJSON(.object(["databases": .array(rows), "summary": .object(summary)]))
        } else if total > 1 {
            var parts = keys.compactMap { key in succeeded[key].map { "\($0) \(key)" } }
            if !failed.isEmpty {
                let why = FailureKind.allCases.compactMap { k in failures[k].map { "\($0) \(k.rawValue.replacingOccurrences(of: "_", with: " "))" } }
                parts.append("\(failed.count) failed (\(why.joined(separator: ", ")))")
            }
            print(parts.isEmpty ? "no database" : parts.joined(separator: ", "))
        } else if let only = failed.first {
            throw only.error
        }
        if !failed.isEmpty { throw ExitCode(ExitStatus.usage.rawValue) }
    }
}

private func describedDatabase(_ json: JSON) -> String { json["database"]?.stringValue ?? "" }

/// `done/total, failed, rate, time left` on one line of a terminal's stderr.
final class Progress {
    var total: Int
    let start = Date()
    var last = Date.distantPast
    var shown = false

    init(total: Int) { self.total = total }

    func update(done: Int, failed: Int) {
        let now = Date()
        guard now.timeIntervalSince(last) > 0.1 || done == total else { return }
        last = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        FileHandle.standardError.write(Data("\r\u{1B}[K\(done)/\(total) done, \(failed) failed, \(Int(rate))/s, \(Int(left.rounded(.up)))s left".utf8))
        shown = true
    }

    func clear() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        shown = false
    }
}

/// How a migration outcome is printed and counted.
func describeMigration(_ verb: String, unchanged: String, several: Bool) -> (MigrationOutcome) -> (key: String, line: [String], json: JSON) {
    { outcome in
        switch outcome {
        case let .script(path, script):
            return ("planned", [several ? "-- \(path)\n\(script)" : script.trimmingTrailingNewline],
                    .object(["database": .string(path), "outcome": "planned", "sql": .string(script)]))
        case let .unchanged(path, revision, sqlOnly):
            let at = revision?.short ?? "base"
            return (unchanged, [sqlOnly ? "-- \(path) is already there" : "\(path): already at \(at)"],
                    .object(["database": .string(path), "outcome": "unchanged", "revision": .string(revision ?? "base")]))
        case let .migrated(path, plan, trash):
            var lines: [String] = []
            let steps = plan.events.count
            if !several {
                for item in plan.events {
                    lines.append("  \(item.direction == .up ? "up  " : "down") \(item.event!.short)  \(item.message)")
                }
            }
            let move = "\(plan.fromRevision?.short ?? "base") -> \(plan.toRevision?.short ?? "base")"
            lines.append(several ? "\(path): \(move) (\(steps) \(plan.direction.rawValue))" : "\(path): \(move)")
            for k in trash.kept {
                lines.append("  kept \(k.rows) row\(k.rows == 1 ? "" : "s") of \(k.what) for a way back; `strata trash --purge \(k.event.short)` deletes them")
            }
            for what in trash.notKept {
                lines.append("  warning: \(what) comes back without its old data: none was kept (keep_dropped_data = false, or purged)")
            }
            return (verb, lines, .object(["database": .string(path), "outcome": "migrated", "from": .string(plan.fromRevision ?? "base"),
                                           "to": .string(plan.toRevision ?? "base"), "direction": .string(plan.direction.rawValue),
                                           "events": .int(Int64(steps)),
                                           "kept": .array(trash.kept.map { .object(["what": .string($0.what), "rows": .int(Int64($0.rows)), "event": .string($0.event)]) }),
                                           "not_kept": .array(trash.notKept.map { .string($0) })]))
        }
    }
}

extension String {
    var trimmingTrailingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
