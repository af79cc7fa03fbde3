import Foundation
import StrataSQLite
import XCTest

/// Rollouts in waves over real nodes: `promote --waves`, the nodes moving
/// with `sync --apply` or their agents, `strata rollout`.
final class RolloutTests: XCTestCase {
    /// A registry, `dev` (node beta) that records and pushes, `admin`, and
    /// three nodes of prod: alpha, n1 and gamma, each with app.db.
    struct Fleet {
        let registry: RegistryProcess
        let dev: CLI, admin: CLI
        let nodes: [String: CLI]

        init() throws {
            registry = try RegistryProcess()
            dev = try CLI.node("beta", registry: registry, token: "s3cret-bo")
            admin = try CLI.node("root", registry: registry, token: "s3cret-root")
            nodes = ["alpha": try CLI.node("alpha", registry: registry, token: "s3cret-ana"),
                     "n1": try CLI.node("n1", registry: registry, token: "s3cret-bo"),
                     "gamma": try CLI.node("gamma", registry: registry, token: "s3cret-cy")]
        }

        func record(_ message: String, _ sql: String) throws -> String {
            let id = try dev.ok("revision", "-m", message, "--sql", sql).lines[0]
            try dev.ok("push")
            return try XCTUnwrap(try dev.ids().first { $0.hasPrefix(id.prefix(12)) })
        }

        /// Every node applies prod's target once.
        func applyAll() throws { for (_, n) in nodes { _ = try n.run("sync", "--apply", "--env", "prod") } }

        func revision(_ node: String) -> String? {
            (try? TargetDatabase(path: nodes[node]!.path("app.db"), create: false).currentRevision()) ?? "none"
        }

        func status() throws -> [String: Any] { try XCTUnwrap(try admin.json("rollout", "status", "--env", "prod", "--json") as? [String: Any]) }
        func auditCount() throws -> Int { ((try admin.json("audit", "--json") as? [String: Any])?["records"] as? [Any])?.count ?? -1 }
    }

    /// A drifted database in the canary wave: the rollout halts, and no
    /// database outside the first wave is touched.
    func testADriftedCanaryHaltsTheRolloutAndNothingElseMoves() throws {
        let fleet = try Fleet()
        let r1 = try fleet.record("r1", "CREATE TABLE users (id INTEGER PRIMARY KEY);")
        try fleet.admin.ok("pull")
        try fleet.admin.ok("promote", String(r1.prefix(12)), "--env", "prod")
        try fleet.applyAll()
        XCTAssertEqual(["alpha", "n1", "gamma"].map(fleet.revision), [r1, r1, r1])

        // gamma's database drifts: a table nobody recorded.
        _ = try fleet.nodes["gamma"]!.sqlite("app.db", "CREATE TABLE stray (x)")
        let r2 = try fleet.record("r2", "CREATE TABLE notes (id INTEGER PRIMARY KEY);")
        try fleet.admin.ok("pull")
        let started = try fleet.admin.ok("promote", String(r2.prefix(12)), "--env", "prod", "--waves", "30%,100%", "--canary", "gamma")
        XCTAssertEqual(started.stdout, "environment prod rolls out \(r2) in 2 waves; wave 1: gamma\n")

        // Outside wave 1 the target is still r1.
        let outside = try fleet.nodes["alpha"]!.ok("sync", "--apply", "--env", "prod").lines.last ?? ""
        XCTAssertTrue(outside.hasSuffix("app.db: already at \(r1.prefix(12))"), outside)
        let canary = try fleet.nodes["gamma"]!.run("sync", "--apply", "--env", "prod")
        XCTAssertEqual(canary.status, 2, canary.stderr)
        XCTAssertTrue(canary.stderr.contains("has drifted"), canary.stderr)

        let halted = try fleet.status()
        XCTAssertEqual(halted["state"] as? String, "halted")
        XCTAssertEqual(halted["opened"] as? Int, 1)
        let failed = try XCTUnwrap((halted["progress"] as? [String: Any])?["failed"] as? [[String: Any]])
        XCTAssertEqual(failed.map { $0["node"] as? String }, ["gamma"])
        XCTAssertTrue((failed.first?["failure"] as? String ?? "").hasPrefix("database.drifted: database "), "\(failed)")
        XCTAssertTrue((halted["reason"] as? String ?? "").hasPrefix("gamma app.db: database.drifted"), "\(halted)")

        // Nodes outside the wave stay at r1, whatever they run.
        try fleet.applyAll()
        XCTAssertEqual(["alpha", "n1", "gamma"].map(fleet.revision), [r1, r1, r1], "0 databases outside the first wave touched")
        let text = try fleet.admin.ok("rollout", "status", "--env", "prod").lines
        XCTAssertEqual(text.first, "environment prod: \(r1.prefix(12)) -> \(r2.prefix(12)), halted, wave 1 of 2 open (max failures 0, soak 0 s)")
        XCTAssertEqual(Array(text[1...3]), ["  wave 1 (30%): open: gamma", "  wave 2 (100%): waiting: alpha, n1",
                                            "databases of the open waves: 0 at the target, 0 pending, 1 failed"])

        // The fleet page, in Chromium: the halted rollout in red, the failure and the waiting wave.
        let page = try PageTests.Browser().logIn(fleet.registry, token: "s3cret-view", next: "/ui/shop/fleet")
        XCTAssertTrue(page.contains(#"<section class="rollout halted" id="rollout-prod" data-state="halted">"#), page)
        XCTAssertTrue(page.contains("<strong class=\"state\">halted</strong>, wave 1 of 2 open"), page)
        XCTAssertTrue(page.contains(#"<p class="error">halted: gamma app.db: database.drifted: "#), page)
        XCTAssertTrue(page.contains(#"<tr data-wave="1"><td>1</td><td>30%</td><td><span class="node" data-node="gamma">gamma 0/1 (1 failed)</span> </td><td class="bad">failed</td></tr>"#), page)
        XCTAssertTrue(page.contains(#"<tr data-wave="2"><td>2</td><td>100%</td><td><span class="node" data-node="alpha">alpha 0/1</span> <span class="node" data-node="n1">n1 0/1</span> </td><td class="">waiting</td></tr>"#), page)
        XCTAssertFalse(page.contains("http-equiv=\"refresh\""), "a halted rollout does not reload the page")

        // Bad input: an error that says what to do, exit 2, nothing changed.
        // (`local` is in the admin's log only: unknown to the registry.)
        let local: String = String(try fleet.admin.ok("revision", "-m", "unpushed", "--sql", "CREATE TABLE local_only (id INTEGER PRIMARY KEY);").lines[0].prefix(12))
        let unknownToRegistry: String = "error: the registry rejected the request (404): revision \(local) is not in project shop; push it first\n"
        let before = try fleet.auditCount()
        let refusals: [([String], String)] = [
            (["rollout", "pause", "--env", "prod"], "error: the registry rejected the request (400): the rollout of prod is halted: only a running rollout pauses; nothing was changed\n"),
            (["promote", "ffffffff", "--env", "prod", "--waves", "50%,100%"], "error: no revision starts with ffffffff in the local log (see `strata history`)\n"),
            (["promote", String(r2.prefix(12)), "--env", "prod", "--waves", "10%,50%"], "error: waves: the last wave must reach 100% of the nodes (10%,50%)\n"),
            (["promote", String(r2.prefix(12)), "--env", "prod", "--waves", "50%,20%,100%"], "error: waves: each wave must reach more of the nodes than the one before (50%,20%,100%)\n"),
            (["promote", String(r2.prefix(12)), "--env", "prod", "--waves", "50%,100%", "--canary", "omega"],
             "error: the registry rejected the request (400): canary omega is not a node of environment prod (its nodes: alpha, gamma, n1); name one of them, or leave --canary out\n"),
            (["promote", String(r2.prefix(12)), "--env", "prod", "--canary", "gamma"], "error: --canary, --max-failures and --soak go with --waves\n"),
            (["promote", local, "--env", "prod", "--waves", "50%,100%"], unknownToRegistry),
        ]
        for (args, message) in refusals {
            let r = try fleet.admin.run(args)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertTrue(r.stderr.hasPrefix(message), "\(args): \(r.stderr)")
        }
        XCTAssertEqual(try fleet.auditCount(), before, "nothing was recorded")
        XCTAssertEqual(try fleet.status()["state"] as? String, "halted")

        // Abort: every node back to r1 (gamma never left it); the environment's target is r1 again.
        let aborted = try fleet.admin.ok("rollout", "abort", "--env", "prod").lines
        XCTAssertEqual(aborted.first, "environment prod: \(r1.prefix(12)) -> \(r2.prefix(12)), aborted, wave 1 of 2 open (max failures 0, soak 0 s)")
        XCTAssertEqual(try fleet.admin.run("rollout", "resume", "--env", "prod").stderr,
                       "error: the registry rejected the request (400): the rollout of prod is aborted: only a halted or paused rollout resumes; nothing was changed\n")
        let audit = try XCTUnwrap((try fleet.admin.json("audit", "--json") as? [String: Any])?["records"] as? [[String: Any]])
        XCTAssertEqual(audit.compactMap { $0["action"] as? String }.filter { $0.hasPrefix("rollout") || $0 == "promote" },
                       ["promote", "promote", "rollout-halt", "rollout-abort"])
    }

    /// Agents on three nodes: the canary wave first, the others after the
    /// soak; the registry killed and restarted meanwhile loses nothing, and
    /// no database is migrated twice.
    func testAgentsFollowTheWavesAndARestartedRegistryGoesOn() throws {
        let fleet = try Fleet()
        let r1 = try fleet.record("r1", "CREATE TABLE users (id INTEGER PRIMARY KEY);")
        try fleet.admin.ok("pull")
        try fleet.admin.ok("promote", String(r1.prefix(12)), "--env", "prod")
        let agents = try ["alpha", "n1", "gamma"].map { try AgentTests.AgentProcess(fleet.nodes[$0]!, ["--max-backoff", "2"]) }
        AgentTests.eventually("every node at r1") { ["alpha", "n1", "gamma"].map(fleet.revision) == [r1, r1, r1] }

        let r2 = try fleet.record("r2", "CREATE TABLE notes (id INTEGER PRIMARY KEY);")
        try fleet.admin.ok("pull")
        try fleet.admin.ok("promote", String(r2.prefix(12)), "--env", "prod", "--waves", "30%,100%", "--canary", "alpha", "--soak", "5")
        // While it runs, the fleet page shows it and reloads itself.
        let page = try PageTests.Browser().logIn(fleet.registry, token: "s3cret-view", next: "/ui/shop/fleet")
        XCTAssertTrue(page.contains(#"<meta http-equiv="refresh" content="5">"#), page)
        XCTAssertTrue(page.contains(#"<section class="rollout running" id="rollout-prod" data-state="running">"#), page)
        AgentTests.eventually("the canary at r2") { fleet.revision("alpha") == r2 }
        XCTAssertEqual([fleet.revision("n1"), fleet.revision("gamma")], [r1, r1], "wave 2 waits for the soak")
        AgentTests.eventually("wave 1 reached") {
            let status = try? fleet.status()
            if status?["state"] as? String == "halted" { XCTFail("halted: \(status?["reason"] ?? "") \(agents.map(\.log))"); return true }
            return (status?["reached_at"] as? String) != nil
        }

        // Killed during the soak, started again on the same store: the rollout goes on.
        fleet.registry.kill()
        try fleet.registry.start()
        AgentTests.eventually("every node at r2") { ["alpha", "n1", "gamma"].map(fleet.revision) == [r2, r2, r2] }
        AgentTests.eventually("the rollout done") { (try? fleet.status())?["state"] as? String == "done" }
        let steps = try XCTUnwrap(try fleet.status()["steps"] as? [[String: Any]]).compactMap { $0["action"] as? String }
        XCTAssertEqual(steps, ["start", "reach", "open", "done"])
        for node in ["alpha", "n1", "gamma"] {
            XCTAssertEqual(try fleet.nodes[node]!.sqlite("app.db", "SELECT count(*) FROM strata_history"), "2", "\(node): r1 then r2, each once")
        }
    }
}
