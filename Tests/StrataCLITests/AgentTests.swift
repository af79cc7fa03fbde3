import Foundation
import StrataCore
import StrataLog
import StrataSQLite
import XCTest

/// `strata agent` as a node runs it: a real agent process, a real
/// registry, tenant files; the target moved by `promote` from another node.
final class AgentTests: XCTestCase {
    /// A registry; `dev` (node beta), which records and pushes; `admin`,
    /// which promotes; and `node` (alpha), whose databases are app.db and
    /// t/a.db, t/b.db.
    struct Fleet {
        let registry: RegistryProcess
        let dev: CLI, admin: CLI, node: CLI

        init() throws {
            registry = try RegistryProcess()
            dev = try CLI.node("beta", registry: registry, token: "s3cret-bo")
            admin = try CLI.node("root", registry: registry, token: "s3cret-root")
            node = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
            try node.write("strata.toml", try node.read("strata.toml").replacingOccurrences(of: "databases = [\"app.db\"]", with: "databases = [\"app.db\", \"t/*.db\"]"))
            try FileManager.default.createDirectory(atPath: node.path("t"), withIntermediateDirectories: true)
            for name in ["a", "b"] { XCTAssertTrue(FileManager.default.createFile(atPath: node.path("t/\(name).db"), contents: Data())) }
        }

        /// A revision recorded and pushed by dev; its full id.
        func record(_ message: String, _ sql: String) throws -> String {
            let id = try dev.ok("revision", "-m", message, "--sql", sql).lines[0]
            try dev.ok("push")
            return try XCTUnwrap(try dev.ids().first { $0.hasPrefix(id.prefix(12)) })
        }

        func promote(_ id: String) throws {
            try admin.ok("pull")
            try admin.ok("promote", String(id.prefix(12)), "--env", "prod", "--allow-backward")
        }

        /// The revisions of alpha's three databases.
        func revisions() -> [String?] {
            ["app.db", "t/a.db", "t/b.db"].map { (try? TargetDatabase(path: node.path($0), create: false).currentRevision()) ?? "unreadable" }
        }
    }

    /// An agent process whose stderr goes to a file.
    final class AgentProcess {
        let process: Process
        let logPath: String

        init(_ cli: CLI, _ arguments: [String] = []) throws {
            logPath = cli.path("agent-\(UUID().uuidString).log")
            XCTAssertTrue(FileManager.default.createFile(atPath: logPath, contents: nil))
            process = cli.process(["agent", "--env", "prod", "--watch", "5"] + arguments)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle(forWritingAtPath: logPath)
            try process.run()
        }

        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
    }

    /// Waits up to 60 s for `condition`; the seconds it took.
    @discardableResult
    static func eventually(_ what: String, _ condition: () throws -> Bool) rethrows -> Double {
        let start = Date()
        while Date().timeIntervalSince(start) < 60 {
            if try condition() { return Date().timeIntervalSince(start) }
            usleep(50_000)
        }
        XCTFail("not within 60 s: \(what)")
        return 60
    }

    func testAnAgentFollowsItsEnvironmentUpAndDownAndStopsOnSIGTERM() throws {
        let fleet = try Fleet()
        let r1 = try fleet.record("r1", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);")
        try fleet.promote(r1)
        let agent = try AgentProcess(fleet.node)
        Self.eventually("alpha's databases at r1") { fleet.revisions() == [r1, r1, r1] }

        // A promote reaches the node through the watch, without a poll interval to wait out.
        let r2 = try fleet.record("r2", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);")
        try fleet.admin.ok("pull")
        let promoted = Date()
        try fleet.admin.ok("promote", String(r2.prefix(12)), "--env", "prod")
        let promoteTook = Date().timeIntervalSince(promoted)
        let up = promoteTook + Self.eventually("alpha's databases at r2") { fleet.revisions() == [r2, r2, r2] }
        _ = try fleet.node.sqlite("t/a.db", "INSERT INTO notes VALUES (1, 'kept')")
        print("agent: every database at the new target within \(String(format: "%.2f", up)) s of the promote's start (the promote command itself: \(String(format: "%.2f", promoteTook)) s)")

        // Back down: the derived downgrade, the rows kept in the trash; forward again brings them back.
        try fleet.promote(r1)
        Self.eventually("alpha's databases back at r1") { fleet.revisions() == [r1, r1, r1] }
        try fleet.promote(r2)
        Self.eventually("alpha's databases at r2 again") { fleet.revisions() == [r2, r2, r2] }
        XCTAssertEqual(try fleet.node.sqlite("t/a.db", "SELECT body FROM notes"), "kept")

        // The registry heard of every database, in the environment.
        let status = try XCTUnwrap(try fleet.admin.json("fleet", "--json") as? [String: Any])
        let databases = try XCTUnwrap(status["databases"] as? [[String: Any]])
        XCTAssertEqual(databases.filter { $0["node"] as? String == "alpha" }.map { $0["revision"] as? String }, [r2, r2, r2])

        kill(agent.process.processIdentifier, SIGTERM)
        XCTAssertTrue(agent.process.waitForExit(within: 10), "the agent ends on SIGTERM")
        XCTAssertEqual(agent.process.terminationStatus, 0)
        let lines = agent.log.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "agent: following environment prod on \(fleet.registry.url) (node alpha)")
        XCTAssertEqual(lines.filter { $0.hasPrefix("agent: environment prod targets") }, [
            "agent: environment prod targets \(r1.prefix(12)): 3 migrated, 0 already there, 0 failed",
            "agent: environment prod targets \(r2.prefix(12)): 3 migrated, 0 already there, 0 failed",
            "agent: environment prod targets \(r1.prefix(12)): 3 migrated, 0 already there, 0 failed",
            "agent: environment prod targets \(r2.prefix(12)): 3 migrated, 0 already there, 0 failed",
        ], agent.log)
        XCTAssertEqual(lines.last, "agent: stopped")
    }

    /// The registry gone for a while: the databases stay, the agent backs
    /// off (1, 2, 4 s...), and a target promoted once it is back arrives.
    func testAnAgentWithoutItsRegistryBacksOffAndCatchesUp() throws {
        let fleet = try Fleet()
        let r1 = try fleet.record("r1", "CREATE TABLE users (id INTEGER PRIMARY KEY);")
        try fleet.promote(r1)
        let agent = try AgentProcess(fleet.node, ["--max-backoff", "4"])
        Self.eventually("at r1") { fleet.revisions() == [r1, r1, r1] }
        let r2 = try fleet.record("r2", "CREATE TABLE notes (id INTEGER PRIMARY KEY);")

        fleet.registry.stop()
        Self.eventually("the agent backing off three times") { agent.log.components(separatedBy: "; trying again in").count - 1 >= 3 }
        XCTAssertEqual(fleet.revisions(), [r1, r1, r1], "nothing moves without the registry")
        let waits = agent.log.components(separatedBy: "; trying again in ").dropFirst().map { $0.prefix { $0 != " " } }
        XCTAssertEqual(Array(waits.prefix(3)), ["1", "2", "4"], agent.log)
        XCTAssertTrue(agent.log.contains("agent: the registry at \(fleet.registry.url) is unreachable"), agent.log)

        try fleet.registry.start()
        try fleet.promote(r2)
        Self.eventually("at r2 once the registry is back") { fleet.revisions() == [r2, r2, r2] }
        XCTAssertTrue(agent.process.isRunning)
    }

    /// `--once`: one pass, and an exit status that says how it went.
    func testOncePassesAndSaysHowItWent() throws {
        let fleet = try Fleet()
        let noTarget = try fleet.node.run("agent", "--env", "prod", "--once")
        XCTAssertEqual(noTarget.status, 2)
        XCTAssertEqual(noTarget.stderr, "error: the registry rejected the request (404): environment prod has no target; an admin sets one with `strata promote REV --env prod`\n")

        let r1 = try fleet.record("r1", "CREATE TABLE users (id INTEGER PRIMARY KEY);")
        try fleet.promote(r1)
        let once = try fleet.node.run("agent", "--env", "prod", "--once")
        XCTAssertEqual(once.status, 0, once.stderr)
        XCTAssertEqual(once.stderr, "agent: environment prod targets \(r1.prefix(12)): 3 migrated, 0 already there, 0 failed\n")
        XCTAssertEqual(fleet.revisions(), [r1, r1, r1])

        // The environment from strata.toml when --env is not given; neither is an error.
        let noEnv = try fleet.node.run("agent", "--once")
        XCTAssertEqual(noEnv.status, 2)
        XCTAssertTrue(noEnv.stderr.hasPrefix("error: name the environment to follow: --env ENV, or environment = \"ENV\" in strata.toml\n"), noEnv.stderr)
        try fleet.node.write("strata.toml", try fleet.node.read("strata.toml") + "environment = \"prod\"\n")
        XCTAssertEqual(try fleet.node.run("agent", "--once").stderr, "agent: environment prod targets \(r1.prefix(12)): 0 migrated, 3 already there, 0 failed\n")

        try fleet.node.write("t/zz_garbage.db", String(repeating: "not a database ", count: 20))
        let bad = try fleet.node.run("agent", "--env", "prod", "--once")
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.hasSuffix("agent: environment prod targets \(r1.prefix(12)): 0 migrated, 3 already there, 1 failed\n"), bad.stderr)
        let garbage = fleet.node.path("t/zz_garbage.db")
        XCTAssertTrue(bad.stderr.hasPrefix("agent: \(garbage): \(garbage) is not an SQLite database (file is not a database); remove it, or change `databases` so that it is not matched\n"), bad.stderr)

        fleet.registry.stop()
        let down = try fleet.node.run("agent", "--env", "prod", "--once")
        XCTAssertEqual(down.status, 4)
        XCTAssertTrue(down.stderr.hasPrefix("error: the registry at \(fleet.registry.url) is unreachable"), down.stderr)

        for (flags, message) in [(["--watch", "0"], "--watch must be from 1 to 25 seconds"), (["--poll", "0"], "--poll must be more than 0 seconds"),
                                 (["--retry-failed"], "--retry-failed does not go with agent: it retries failed databases itself")] {
            let r = try fleet.node.run(["agent", "--env", "prod"] + flags)
            XCTAssertEqual(r.status, 2)
            XCTAssertTrue(r.stderr.hasPrefix("error: \(message)\n"), r.stderr)
        }
        XCTAssertEqual(fleet.revisions(), [r1, r1, r1])
    }

    /// An event whose lint has an error its author did not accept (here a
    /// foreign key to a column that is not unique, written straight into
    /// a log, as a tool other than strata's revision might): the agent runs
    /// nothing and reports the databases failed; `--accept` goes past it.
    func testALintErrorRefusesThePassUnlessAccepted() throws {
        let fleet = try Fleet()
        let r1 = try fleet.record("parents", "CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT);")
        let broken = Event(parents: [r1], author: "beta@example.com", timestamp: 1, message: "children",
                           ops: [.createTable(Table(name: "c", columns: [Column(name: "id", type: "INTEGER"), Column(name: "code", type: "TEXT")],
                                                    constraints: TableConstraints(primaryKey: ["id"], foreignKeys: [ForeignKey(columns: ["code"], referencedTable: "p", referencedColumns: ["code"])])),
                                              indexes: [], triggers: [])])
        try SQLiteEventLog(path: fleet.dev.path(".strata/log.db")).append([broken], expectedHeads: [r1])
        try fleet.dev.ok("push")
        try fleet.promote(r1)
        XCTAssertEqual(try fleet.node.run("agent", "--env", "prod", "--once").status, 0)
        try fleet.promote(broken.id)

        let refused = try fleet.node.run("agent", "--env", "prod", "--once")
        XCTAssertEqual(refused.status, 2)
        let lines = refused.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "agent: refused: BK101 (\(broken.id.prefix(12)), op 1): c(code) references p(code), which is neither the PRIMARY KEY of p nor UNIQUE, "
                       + "so SQLite refuses every write to c (\"foreign key mismatch\"): make p(code) UNIQUE (or its primary key), or reference the primary key of p; nothing was run")
        XCTAssertEqual(lines.last, "agent: environment prod targets \(broken.id.prefix(12)): 0 migrated, 0 already there, 3 failed")
        XCTAssertEqual(fleet.revisions(), [r1, r1, r1], "nothing was run")
        let status = try XCTUnwrap(try fleet.admin.json("fleet", "--json") as? [String: Any])
        let failures = (status["databases"] as? [[String: Any]] ?? []).filter { $0["node"] as? String == "alpha" }.compactMap { $0["failure"] as? String }
        XCTAssertEqual(failures.count, 3)
        XCTAssertTrue(failures.allSatisfy { $0.hasPrefix("lint.refused: BK101: ") }, "\(failures)")

        // Accepted, the pass runs the event, and SQLite itself refuses it as lint said (each database left at r1).
        let accepted = try fleet.node.run("agent", "--env", "prod", "--once", "--accept", "BK101")
        XCTAssertEqual(accepted.status, 2)
        XCTAssertFalse(accepted.stderr.contains("agent: refused:"), accepted.stderr)
        XCTAssertTrue(accepted.stderr.contains("foreign key mismatch - \"c\" referencing \"p\""), accepted.stderr)
        XCTAssertEqual(fleet.revisions(), [r1, r1, r1])
        XCTAssertTrue(try fleet.node.run("agent", "--env", "prod", "--once", "--accept", "XX999").stderr
            .hasPrefix("error: --accept XX999: not a finding code; `strata lint --help` lists them"))
    }


    /// An agent killed in the middle of a pass over 200 tenants, started
    /// again: it goes on from where each database is, and none is migrated
    /// twice.
    func testAnAgentKilledMidPassGoesOnAndMigratesNothingTwice() throws {
        let fleet = try Fleet()
        for n in 0..<200 { XCTAssertTrue(FileManager.default.createFile(atPath: fleet.node.path("t/n\(n).db"), contents: Data())) }
        let tenants = (0..<200).map { "t/n\($0).db" }
        func at(_ id: String) -> Int { tenants.filter { (try? TargetDatabase(path: fleet.node.path($0), create: false).currentRevision()) == id }.count }
        let r1 = try fleet.record("r1", "CREATE TABLE users (id INTEGER PRIMARY KEY);")
        try fleet.promote(r1)
        XCTAssertEqual(try fleet.node.run("agent", "--env", "prod", "--once", "--jobs", "1").status, 0)
        let r2 = try fleet.record("r2", "CREATE TABLE notes (id INTEGER PRIMARY KEY);")
        try fleet.promote(r2)
        let first = try AgentProcess(fleet.node, ["--jobs", "1"])
        Self.eventually("some tenants at r2") { at(r2) > 0 }
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        let before = at(r2)
        print("agent killed with \(before) of 200 tenants at r2")
        let second = try AgentProcess(fleet.node, ["--jobs", "1"])
        Self.eventually("every tenant at r2") { at(r2) == 200 }
        for t in tenants { XCTAssertEqual(try fleet.node.sqlite(t, "SELECT count(*) FROM strata_history"), "2", "\(t): r1 then r2, each once") }
        _ = second
    }


    /// A node that trusts keys runs no event none of them signed, whatever
    /// the registry took: the agent's pull refuses it, nothing runs.
    func testAnAgentRunsOnlyWhatATrustedKeySigned() throws {
        let fleet = try Fleet()
        let key = try fleet.node.ok("keys", "generate", "--out", "mine.key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try fleet.node.write("team.keys", "ana \(key)\n")
        try fleet.node.write("strata.toml", try fleet.node.read("strata.toml") + "trusted_keys = \"team.keys\"\n")
        let r1 = try fleet.record("r1", "CREATE TABLE users (id INTEGER PRIMARY KEY);")
        try fleet.promote(r1)
        let refused = try fleet.node.run("agent", "--env", "prod", "--once")
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(refused.stderr, "error: event \(r1.prefix(12)) (r1) is not signed, and this node runs only events signed by a key of team.keys "
                       + "(trusted_keys in strata.toml); nothing was pulled\n", "the pull verifies what it brings in")
        XCTAssertEqual(try fleet.node.ids(), [], "nothing was pulled")
        XCTAssertFalse(FileManager.default.fileExists(atPath: fleet.node.path("app.db")), "app.db not even created")
        for t in ["t/a.db", "t/b.db"] { XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: fleet.node.path(t))[.size] as? Int, 0, "\(t) untouched") }
    }

}
