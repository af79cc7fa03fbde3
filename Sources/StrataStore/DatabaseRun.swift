import Foundation
import StrataLog
import StrataCore
import StrataSQLite

/// How a command goes over several databases.
package struct RunOptions: Sendable {
    /// Databases worked on at once, each by its own worker with its own
    /// connections (to the database and to the log).
    package var jobs = 1
    /// Stop at the first database that fails (the others are not attempted).
    package var failFast = false
    /// Migrate a database whose schema differs from its recorded revision.
    package var ignoreDrift = false
    /// How long to wait for a database another process has locked.
    package var waitSeconds: Double = 0
    /// Go past data steps recorded without reverse SQL.
    package var allowIrreversible = false
    /// An SQL literal for restored NOT NULL columns' rows with nothing kept.
    package var fill: String?
    /// Plan less work than the history on the way up (each table rebuilt at
    /// most once, a new table created in its final shape).
    package var compact = true

    package init() {}
}

/// Why a database failed, in words a summary can count.
package enum FailureKind: String, Sendable, CaseIterable {
    case notADatabase = "not_a_database"
    case locked
    case unknownRevision = "unknown_revision"
    case drifted
    case readOnly = "read_only"
    case migrationFailed = "migration_failed"
    case other

    package init(_ error: Error) {
        switch error {
        case let e as MigrationError:
            switch e {
            case .notADatabase: self = .notADatabase
            case .locked: self = .locked
            case .unknownRevision: self = .unknownRevision
            case .drifted: self = .drifted
            case .readOnly: self = .readOnly
            case .event, .moved, .foreignKeyViolations, .irreversible, .unfilled: self = .migrationFailed
            }
        case let e as SQLiteError where e.isBusy: self = .locked
        default: self = .other
        }
    }
}

/// One database that failed, and why.
package struct DatabaseFailure: Error, @unchecked Sendable {
    package let database: String
    package let kind: FailureKind
    /// The error itself (for a single database, the command fails with it).
    package let error: Error

    init(_ database: String, _ error: Error) {
        self.database = database
        self.error = error
        kind = FailureKind(error)
    }
}

/// Runs `work` for each path on `options.jobs` workers, and hands each
/// result to `each` as it comes, one at a time (so output lines never
/// interleave). A worker needs its own project (its own log connection):
/// `makeWorker` opens one. With `failFast`, no database is started after
/// the first failure. Returns the failures, in path order.
func runEach<Result>(_ paths: [String], options: RunOptions, makeWorker: (@Sendable () throws -> Project)?, main: Project,
                     work: @escaping @Sendable (Project, String) -> Swift.Result<Result, DatabaseFailure>,
                     each: @escaping (Swift.Result<Result, DatabaseFailure>) -> Void) -> [DatabaseFailure] {
    let state = RunState(count: paths.count, failFast: options.failFast, each: each)
    let jobs = max(1, min(options.jobs, paths.count))
    guard jobs > 1, let makeWorker else {
        while let i = state.next() { state.record(i, work(main, paths[i])) }
        return state.failures
    }
    let done = DispatchSemaphore(value: 0)
    for _ in 0..<jobs {
        let thread = Thread {
            defer { done.signal() }
            let worker: Project
            do { worker = try makeWorker() } catch {
                while let i = state.next() {
                    state.record(i, .failure(DatabaseFailure(paths[i], error)))
                }
                return
            }
            while let i = state.next() { state.record(i, work(worker, paths[i])) }
        }
        thread.stackSize = 4 << 20
        thread.start()
    }
    for _ in 0..<jobs { done.wait() }
    return state.failures
}

/// What the workers share: the next index to take, the failures, and the
/// lock that serialises `each`.
final class RunState<Result>: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private let count: Int
    private let failFast: Bool
    private var stopped = false
    private var failed: [(Int, DatabaseFailure)] = []
    private let each: (Swift.Result<Result, DatabaseFailure>) -> Void

    init(count: Int, failFast: Bool, each: @escaping (Swift.Result<Result, DatabaseFailure>) -> Void) {
        self.count = count
        self.failFast = failFast
        self.each = each
    }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped, nextIndex < count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }

    func record(_ index: Int, _ result: Swift.Result<Result, DatabaseFailure>) {
        lock.lock()
        defer { lock.unlock() }
        if case .failure(let f) = result {
            failed.append((index, f))
            if failFast { stopped = true }
        }
        each(result)
    }

    var failures: [DatabaseFailure] {
        lock.lock()
        defer { lock.unlock() }
        return failed.sorted { $0.0 < $1.0 }.map(\.1)
    }
}

extension Project {
    /// A project on its own connection to the same log, for a worker thread.
    /// A log that is not a file (memory, in tests) cannot be shared across
    /// threads: such a project runs one job.
    func workerFactory() -> (@Sendable () throws -> Project)? {
        guard log is SQLiteEventLog else { return nil }
        let root = self.root, config = self.config, logPath = path(config.log)
        return { Project(root: root, config: config, log: try SQLiteEventLog(path: logPath)) }
    }

    /// `runEach` with this project's workers.
    func run<Result>(_ paths: [String], options: RunOptions, work: @escaping @Sendable (Project, String) -> Swift.Result<Result, DatabaseFailure>,
                     each: @escaping (Swift.Result<Result, DatabaseFailure>) -> Void) -> [DatabaseFailure] {
        runEach(paths, options: options, makeWorker: workerFactory(), main: self, work: work, each: each)
    }
}
