import Foundation
import StrataLog
import StrataCore
import StrataSQLite
import StrataStore
import StrataTestSupport
import XCTest

/// Kills strata at drawn instants while it appends and while it migrates:
/// the log stays readable with a prefix of its events, and the database is
/// at its old or its new revision with a matching schema.
///
/// The instants are not guesses: an unkilled run is timed first, and kills
/// are drawn across that measured span, so a loaded machine (where a process
/// takes longer to start) stretches the span instead of making every kill
/// land before the work. A failure names its seed; `STRATA_CRASH_SEED=N`
/// replays the same delays. Each trial is classified by what the kill left:
/// nothing written yet, a hot rollback journal (the kill hit the write
/// transaction), or the work committed. The trials go on until each class
/// has been seen (up to a cap), and the test asserts that they were: a test
/// whose kills all land before the work proves nothing.
final class CrashTests: XCTestCase {
    enum Landing: String, CaseIterable { case before = "before the write", inside = "inside the write", after = "after the commit" }

    /// Milliseconds an unkilled run takes (the longest of three, so that
    /// kills drawn across it reach past the commit); `run(n)` gives the
    /// arguments of the n-th run after resetting what it needs.
    func measure(_ cli: CLI, _ run: (Int) throws -> [String]) throws -> Double {
        var times: [Double] = []
        for n in 0..<3 {
            let args = try run(n)
            let start = Date()
            let r = try cli.run(args)
            XCTAssertEqual(r.status, 0, r.stderr)
            times.append(Date().timeIntervalSince(start) * 1000)
        }
        return times.max()!
    }

    func killed(_ cli: CLI, _ args: [String], afterMilliseconds delay: Double, journal: String) throws -> Bool {
        let p = cli.process(args)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        usleep(UInt32(delay * 1000))
        if p.isRunning { Foundation.kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        // Before anything opens the file again (which would roll it back).
        let size = (try? FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int) ?? 0
        return size > 0
    }

    func testKilledMigrationsLeaveTheOldOrTheNewRevision() throws {
        let seed = SeededRandom.seed(from: "STRATA_CRASH_SEED")
        var rng = SeededRandom(seed: seed)
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        // A long log, written through the library for speed.
        let log = try SQLiteEventLog(path: cli.path(".strata/log.db"))
        var parent: String?
        var events: [Event] = []
        // Tables, then data steps that fill them: most of a run is its write
        // transaction (not reading and planning the log), so kills land
        // inside it often enough to be counted on.
        let created = 100
        for n in 0..<created {
            let t = Table(name: "t\(n)", columns: [Column(name: "id", type: "INTEGER"), Column(name: "v", type: "TEXT")],
                          constraints: TableConstraints(primaryKey: ["id"]))
            let e = Event(parents: parent.map { [$0] } ?? [], author: "crash", timestamp: Int64(n), message: "t\(n)",
                          ops: [.createTable(t, indexes: [Index(name: "ix\(n)", table: "t\(n)", terms: ["v"])], triggers: [])])
            events.append(e)
            parent = e.id
        }
        for k in 0..<8 {
            let fill = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
                + "INSERT INTO t\(k) (v) SELECT 'bulk \(k) ' || i FROM n"
            let e = Event(parents: [parent!], author: "crash", timestamp: Int64(100 + k), message: "fill t\(k)",
                          ops: [.exec(forward: fill, reverse: "DELETE FROM t\(k) WHERE v LIKE 'bulk \(k) %'")])
            events.append(e)
            parent = e.id
        }
        // Last, a column of a filled table dropped: the upgrade keeps its
        // 20,000 values in a stash, the downgrade brings them back.
        let drop = Event(parents: [parent!], author: "crash", timestamp: 200, message: "drop t1.v",
                         ops: [.dropIndex(Index(name: "ix1", table: "t1", terms: ["v"])),
                               .dropColumn(table: "t1", column: Column(name: "v", type: "TEXT"), position: 1)])
        events.append(drop)
        parent = drop.id
        let stash = "strata_trash_\(drop.id.prefix(16))_u1"
        try log.append(events, expectedHeads: [])
        let head = try XCTUnwrap(parent)
        // The database exists at base, so a kill before the first write still reads as base.
        try cli.ok("stamp", "base")
        func measureBothWays() throws -> (up: Double, down: Double) {
            let span = (up: try measure(cli) { _ in try cli.ok("downgrade", "base"); return ["upgrade", "head"] },
                        down: try measure(cli) { _ in try cli.ok("upgrade", "head"); return ["downgrade", "base"] })
            try cli.ok("downgrade", "base")
            return span
        }
        var span = try measureBothWays()

        var landings: [Landing: Int] = [:]
        var trial = 0
        while trial < 150 && (trial < 30 || Landing.allCases.contains { (landings[$0] ?? 0) < 2 }) {
            // The machine's load changes while the trials run: measure again now and then.
            if trial > 0 && trial % 40 == 0 { span = try measureBothWays() }
            let up = trial % 2 == 0
            let (from, to) = up ? ("base", head) : (head, "base")
            let delay = Double.random(in: 0...((up ? span.up : span.down) * 1.1), using: &rng)
            let hot = try killed(cli, up ? ["upgrade", "head"] : ["downgrade", "base"], afterMilliseconds: delay, journal: cli.path("app.db-journal"))
            let what = "seed \(seed), trial \(trial), kill at \(Int(delay)) ms of \(Int(up ? span.up : span.down))"
            let current = try cli.run("current").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertTrue(current == from || current == to, "\(what): \(current)")
            if hot { XCTAssertEqual(current, from, "\(what): a rolled-back run leaves the old revision") }
            landings[hot ? .inside : current == from ? .before : .after, default: 0] += 1
            let check = try cli.run("check")
            XCTAssertEqual(check.status, 0, "\(what): \(check.stdout) \(check.stderr)")
            // The rows go with the schema: all the data steps' rows, or none.
            XCTAssertEqual(try cli.sqlite("app.db", current == "base" ? "SELECT count(*) FROM sqlite_master WHERE name = 't0'"
                                                                        : "SELECT count(*) FROM t0"), current == "base" ? "0" : "20000", what)
            // The dropped column's values go with the revision: kept at head, back in place (and no stash of the way up) at base;
            // the tables the history created are kept by the way down (one stash each) and back in place at head.
            let stashes = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'strata\\_trash\\_%\\_' || ? || '%' ESCAPE '\\'"
            XCTAssertEqual(try cli.sqlite("app.db", current == "base" ? stashes.replacingOccurrences(of: "?", with: "'u'")
                                                                        : "SELECT count(*) || ' ' || (SELECT rows FROM strata_trash WHERE stash = '\(stash)') FROM \(stash)"),
                           current == "base" ? "0" : "20000 20000", what)
            XCTAssertEqual(try cli.sqlite("app.db", stashes.replacingOccurrences(of: "?", with: "'d'")), current == "base" ? String(created) : "0", what)
            // Finish the move so the next trial starts from a known place.
            try cli.ok(up ? "upgrade" : "downgrade", up ? "head" : "base")
            trial += 1
        }
        let summary = Landing.allCases.map { "\($0.rawValue): \(landings[$0] ?? 0)" }.joined(separator: ", ")
        print("migration kills (seed \(seed), \(trial) trials, up \(Int(span.up)) ms, down \(Int(span.down)) ms): \(summary)")
        for landing in Landing.allCases {
            XCTAssertGreaterThanOrEqual(landings[landing] ?? 0, 2, "seed \(seed): too few kills landed \(landing.rawValue) (\(summary))")
        }
    }

    func testKilledAppendsLeaveAReadablePrefix() throws {
        let seed = SeededRandom.seed(from: "STRATA_CRASH_SEED")
        var rng = SeededRandom(seed: seed)
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        // One table a revision: the schema (which each revision's proof
        // builds) grows slowly, so one measured span holds for every trial.
        func revision(_ n: Int) -> [String] {
            ["revision", "-m", "trial \(n)", "--sql", "CREATE TABLE c\(n) (id INTEGER PRIMARY KEY, v TEXT);"]
        }
        var span = try measure(cli) { revision(1000 + $0) }
        var expected = try cli.ok("verify").stdout.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? -1
        var landings: [Landing: Int] = [:]
        var trial = 0
        while trial < 120 && (trial < 30 || [Landing.before, .after].contains { (landings[$0] ?? 0) < 2 }) {
            // The machine's load changes while the trials run: measure again now and then.
            if trial > 0 && trial % 30 == 0 { span = try measure(cli) { revision(2000 + trial + $0) } }
            let delay = Double.random(in: 0...(span * 1.1), using: &rng)
            let hot = try killed(cli, revision(trial), afterMilliseconds: delay, journal: cli.path(".strata/log.db-journal"))
            let what = "seed \(seed), trial \(trial), kill at \(Int(delay)) ms of \(Int(span))"
            let verify = try cli.run("verify")
            XCTAssertEqual(verify.status, 0, "\(what): \(verify.stdout)")
            let count = (try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json").stdout.utf8)) as! [Any]).count
            XCTAssertTrue(count == expected || count == expected + 1, "\(what): \(count) events, expected \(expected) or one more")
            if hot { XCTAssertEqual(count, expected, "\(what): a rolled-back append adds nothing") }
            landings[hot ? .inside : count == expected ? .before : .after, default: 0] += 1
            expected = count
            trial += 1
        }
        try cli.ok("upgrade", "head")
        try cli.ok("check")
        let summary = Landing.allCases.map { "\($0.rawValue): \(landings[$0] ?? 0)" }.joined(separator: ", ")
        print("append kills (seed \(seed), \(trial) trials, unkilled run \(Int(span)) ms): \(summary)")
        XCTAssertGreaterThanOrEqual(landings[.before] ?? 0, 2, "seed \(seed): too few kills landed before the append (\(summary))")
        XCTAssertGreaterThanOrEqual(landings[.after] ?? 0, 2, "seed \(seed): too few kills landed after the append (\(summary))")
    }

    /// A pull appends page by page (1000 events a transaction): a kill
    /// leaves a whole number of pages, never part of one.
    func testKilledPullsLeaveWholePages() throws {
        let seed = SeededRandom.seed(from: "STRATA_CRASH_SEED")
        var rng = SeededRandom(seed: seed)
        let registry = try RegistryProcess()
        let alpha = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
        try SQLiteEventLog(path: alpha.path(".strata/log.db")).append(eventChain(2000), expectedHeads: [])
        try alpha.ok("push")
        let beta = try CLI.node("beta", registry: registry, token: "s3cret-bo")
        let logPath = beta.path(".strata/log.db")
        let empty = try Data(contentsOf: URL(fileURLWithPath: logPath))
        func reset() throws {
            try? FileManager.default.removeItem(atPath: logPath + "-journal")
            try empty.write(to: URL(fileURLWithPath: logPath))
        }
        let span = try measure(beta) { _ in try reset(); return ["pull"] }

        var landings: [Landing: Int] = [:]
        var trial = 0
        while trial < 60 && (trial < 12 || Landing.allCases.contains { (landings[$0] ?? 0) < 1 }) {
            try reset()
            let delay = Double.random(in: 0...(span * 1.1), using: &rng)
            let hot = try killed(beta, ["pull"], afterMilliseconds: delay, journal: logPath + "-journal")
            let what = "seed \(seed), trial \(trial), kill at \(Int(delay)) ms of \(Int(span))"
            let verify = try beta.run("verify")
            XCTAssertEqual(verify.status, 0, "\(what): \(verify.stdout)")
            // Read from the log itself: `history --json` would fold 2,000 events at each of the trials.
            let count = try SQLiteEventLog(path: logPath).count()
            XCTAssertTrue(count % 1000 == 0, "\(what): \(count) events, not a whole number of pages")
            landings[hot ? .inside : count < 2000 ? .before : .after, default: 0] += 1
            trial += 1
        }
        try beta.ok("pull")
        XCTAssertEqual(try beta.ids().count, 2000, "a later pull completes what a kill cut off")
        let summary = Landing.allCases.map { "\($0.rawValue): \(landings[$0] ?? 0)" }.joined(separator: ", ")
        print("pull kills (seed \(seed), \(trial) trials, unkilled run \(Int(span)) ms): \(summary)")
        for landing in Landing.allCases {
            XCTAssertGreaterThanOrEqual(landings[landing] ?? 0, 1, "seed \(seed): no kill landed \(landing.rawValue) (\(summary))")
        }
    }
}
