import Foundation
import StrataCore
import StrataSQLite
import StrataStore
import StrataWire
import Synchronization

/// `strata agent`: keeps this node's databases at its environment's target.
///
/// A pass sends the reports still queued, reads the target, pulls when the
/// log lacks it, and brings every configured database there (up or down,
/// the tenant globs read again each pass), reporting them in one request.
/// Between passes the agent holds a watch open on the registry, which
/// answers as soon as the target changes. When the registry cannot be
/// reached, the databases stay as they are and the agent tries again after
/// 1, 2, 4… seconds, up to `maxBackoff`.
///
/// Stopping is safe at any moment: each database moves in its own
/// transaction, so a pass cut short leaves every database at its old or its
/// new revision, and the next pass goes on from there.
package final class Agent {
    package struct Settings: Sendable {
        package var environment: String
        /// How long one watch waits for a change (at most `WatchLimits.maxWait`).
        package var wait = WatchLimits.defaultWait
        /// How long to wait before asking again when the environment has no
        /// target yet, or the registry has no watch (an older registry).
        package var poll = 10.0
        package var maxBackoff = 30.0
        package var options = RunOptions()
        /// Lint codes this node accepts on top of those the events' authors
        /// accepted (`revision --accept`).
        package var accepted: Set<String> = []
        package init(environment: String) { self.environment = environment }
    }

    /// What one pass did.
    package struct Pass: Sendable, Equatable {
        package let target: String
        package let migrated: Int
        package let unchanged: Int
        package let failed: [String]
    }

    let project: Project
    let settings: Settings
    let control: AgentControl
    let say: @Sendable (String) -> Void
    /// An error as the log line says it (the CLI adds what to do).
    let explain: @Sendable (Error) -> String
    let observer: any SyncObserver

    package init(project: Project, settings: Settings, control: AgentControl, observer: any SyncObserver,
                 say: @escaping @Sendable (String) -> Void, explain: @escaping @Sendable (Error) -> String = { "\($0)" }) {
        self.project = project
        self.settings = settings
        self.control = control
        self.observer = observer
        self.say = say
        self.explain = explain
    }

    /// One pass over `paths` (every configured database when nil), to `target`
    /// (the environment's, read from the registry, when nil).
    package func pass(to known: String? = nil, only paths: [String]? = nil) throws -> Pass {
        let syncer = try project.syncer(observer: observer)
        let target = try known ?? syncer.client.target(environment: settings.environment, node: project.config.node)
        syncer.flushOutbox()
        if !(try project.log.contains(target)) { try syncer.pull() }
        let selection = try project.selectDatabases([], all: true)
        selection.warnings.forEach(say)
        let targets = paths ?? selection.paths
        if let refused = refuse(targets, to: target) { return refused }
        var migrated = 0, unchanged = 0
        let failures = try project.migrateAndReport(targets, to: .move(to: target), sqlOnly: false, options: settings.options,
                                                   environment: settings.environment, observer: observer, each: { result in
            guard case .success(let outcome) = result else { return }
            if case .migrated = outcome { migrated += 1 } else { unchanged += 1 }
        }, queued: { databases, error in
            self.say("the reports of \(databases.count) database\(databases.count == 1 ? "" : "s") are queued (\(self.explain(error))); the next pass sends them")
        })
        for f in failures { say("\(f.database): \(explain(f.error))") }
        return Pass(target: target, migrated: migrated, unchanged: unchanged, failed: failures.map(\.database))
    }

    /// Lint of the events the pass would run: an error-level finding that
    /// neither the event's author nor this node accepted refuses the pass.
    /// Nothing runs; each database still to move is reported failed (a
    /// rollout counts it). Nil when nothing is refused.
    func refuse(_ paths: [String], to target: String) -> Pass? {
        let refused = project.pendingFindings(paths, to: .revision(target)).filter { $0.level == .error && !settings.accepted.contains($0.code) }
        guard let first = refused.first else { return nil }
        for f in refused { say("refused: \(f.code) (\(f.event.prefix(12)), op \(f.op + 1)): \(f.message); nothing was run") }
        let now = Clock.nowMillis
        var reports: [Report] = []
        for path in paths {
            let revision = (try? TargetDatabase(path: path, create: false).currentRevision()) ?? nil
            guard revision != target else { continue }
            var r = project.report(database: path, revision: revision, direction: nil, environment: settings.environment, now: now, drifted: nil)
            r.failure = Report.failure(code: "lint.refused", "\(first.code): \(first.message)")
            reports.append(r)
        }
        if let error = project.deliver(reports, observer: observer) { say("the refusal's reports are queued (\(explain(error)))") }
        return Pass(target: target, migrated: 0, unchanged: paths.count - reports.count, failed: reports.map(\.database))
    }

    /// Passes until stopped: one at start, then one each time the target
    /// changes; databases that failed are tried again once a watch ends
    /// without a change. `once`: one pass, whose error (if any) is thrown.
    package func run(once: Bool) throws -> Pass? {
        if once {
            guard control.beginPass() else { return nil }
            defer { _ = control.endPass() }
            let done = try pass()
            describe(done)
            return done
        }
        var backoff = 1.0
        var last: Pass?
        while true {
            do {
                if last == nil || !(last!.failed.isEmpty) {
                    guard control.beginPass() else { return last }
                    let done = try pass(to: last?.target, only: last.map(\.failed))
                    describe(done)
                    last = done
                    if control.endPass() { return last }
                }
                let target = try waitForChange(from: last?.target)
                backoff = 1
                if target != last?.target {
                    guard control.beginPass() else { return last }
                    let done = try pass(to: target)
                    describe(done)
                    last = done
                    if control.endPass() { return last }
                } else if let failed = last?.failed, !failed.isEmpty {
                    say("trying the \(failed.count) failed database\(failed.count == 1 ? "" : "s") again")
                }
            } catch {
                if control.endPass() { return last }
                say("\(explain(error)); trying again in \(Int(backoff)) s")
                control.sleep(seconds: backoff)
                backoff = min(backoff * 2, settings.maxBackoff)
            }
            if control.stopRequested { return last }
        }
    }

    /// The target once it differs from `known`, or `known` when a watch
    /// ended without a change.
    func waitForChange(from known: String?) throws -> String? {
        let client = try project.registryClient()
        do {
            return try client.watch(environment: settings.environment, node: project.config.node, known: known, wait: settings.wait).revision
        } catch SyncError.rejected(404, _, let code) {
            // No target yet, or a registry without a watch: ask again later.
            if code != "environment.no_target" { say("the registry has no watch; asking every \(settings.poll) s") }
            control.sleep(seconds: settings.poll)
            return known
        }
    }

    func describe(_ pass: Pass) {
        say("environment \(settings.environment) targets \(pass.target.prefix(12)): \(pass.migrated) migrated, \(pass.unchanged) already there, \(pass.failed.count) failed")
    }
}

/// Between the agent and whoever stops it (the CLI's SIGTERM handler): a
/// stop asked for between passes ends the agent at once; one asked for
/// during a pass ends it when the pass is over.
package final class AgentControl: Sendable {
    private let state = Mutex((passing: false, stop: false))
    private let wake = DispatchSemaphore(value: 0)

    package init() {}

    /// Asks the agent to stop; true when no pass runs, so that the process
    /// may end now.
    package func requestStop() -> Bool {
        let idle = state.withLock { s in s.stop = true; return !s.passing }
        wake.signal()
        return idle
    }

    package var stopRequested: Bool { state.withLock { $0.stop } }

    /// False when a stop was asked for: no pass begins.
    func beginPass() -> Bool { state.withLock { s in s.stop ? false : { s.passing = true; return true }() } }

    /// Whether a stop was asked for during the pass.
    func endPass() -> Bool { state.withLock { s in s.passing = false; return s.stop } }

    /// Sleeps, or less when a stop is asked for.
    func sleep(seconds: Double) {
        guard !stopRequested else { return }
        _ = wake.wait(timeout: .now() + seconds)
    }
}
