import Foundation
import StrataSQLite
import XCTest

/// Registry processes on a real PostgreSQL server (ops/test starts one with
/// `ops/postgres start` and sets STRATA_TEST_POSTGRES and STRATA_TEST_POSTGRES_DIR).
final class PostgresRegistryTests: XCTestCase {
    var databases: [String] = []

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func server() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["STRATA_TEST_POSTGRES"], !url.isEmpty else {
            throw NSError(domain: "PostgresRegistryTests", code: 1, userInfo: [NSLocalizedDescriptionKey:
                "STRATA_TEST_POSTGRES is not set: run the tests with ops/test, which starts a PostgreSQL server (ops/postgres start DIR prints the variable)"])
        }
        return url
    }

    /// psql on the server; its output, trimmed.
    @discardableResult
    static func psql(_ url: String, _ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["psql", url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql]
        let r = try CLI.finish(p, limit: 120)
        guard r.status == 0 else { throw NSError(domain: "psql", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: String(decoding: r.stderr, as: UTF8.self)]) }
        return String(decoding: r.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A database of this test's own; its URL.
    func database() throws -> String {
        let server = try PostgresRegistryTests.server()
        let name = "strata_cli_\(UUID().uuidString.prefix(8).lowercased())"
        try PostgresRegistryTests.psql(server, "CREATE DATABASE \(name)")
        databases.append(name)
        var c = URLComponents(string: server)!
        c.path = "/\(name)"
        return c.string!
    }

    override func tearDownWithError() throws {
        for name in databases { try PostgresRegistryTests.psql(try PostgresRegistryTests.server(), "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    }

    func testTwoRegistryProcessesSixRacingNodesAndOneRegistryKilled() throws {
        let url = try database()
        let registries = [try RegistryProcess(store: url), try RegistryProcess(store: url)]
        let tokens = ["s3cret-ana", "s3cret-bo", "s3cret-cy", "s3cret-ana", "s3cret-bo", "s3cret-cy"]
        // Nodes split across the two processes, as a load balancer would.
        let nodes = try (0..<6).map { try CLI.node("n\($0)", registry: registries[$0 % 2], token: tokens[$0]) }
        let perNode = 5
        final class Tally: @unchecked Sendable {
            let lock = NSLock()
            var errors: [String] = []
            var syncs = 0
            var unreachable = 0
            func with(_ body: (Tally) -> Void) { lock.lock(); body(self); lock.unlock() }
        }
        let tally = Tally()
        let killer = Thread {
            // Half way through, registry 1 dies without a chance to clean up, and comes back.
            while true {
                var done = 0
                tally.with { done = $0.syncs }
                if done >= nodes.count * perNode / 2 { break }
                usleep(5_000)
            }
            registries[1].kill()
            usleep(700_000)
            do { try registries[1].start() } catch { tally.with { $0.errors.append("restart: \(error)") } }
        }
        killer.start()
        DispatchQueue.concurrentPerform(iterations: nodes.count) { i in
            for k in 0..<perNode {
                do {
                    let r1 = try nodes[i].run("revision", "-m", "n\(i) r\(k)", "--sql", "CREATE TABLE n\(i)_\(k) (id INTEGER PRIMARY KEY, v TEXT);")
                    let r2 = try nodes[i].run("sync")
                    tally.with {
                        $0.syncs += 1
                        if r2.status == 4 { $0.unreachable += 1 } // the killed registry: the next sync carries the work
                        else if r1.status != 0 || r2.status != 0 { $0.errors.append("n\(i) r\(k): \(r1.stderr) \(r2.stderr)") }
                    }
                } catch {
                    tally.with { $0.errors.append("\(error)") }
                }
            }
        }
        while killer.isExecuting { usleep(10_000) }
        XCTAssertEqual(tally.errors, [])
        for n in nodes { try n.ok("sync") }
        for n in nodes { try n.ok("sync") }
        let reference = try nodes[0].ids()
        XCTAssertEqual(reference.count, nodes.count * perNode, "none lost")
        XCTAssertEqual(Set(reference).count, reference.count, "none duplicated")
        for n in nodes { XCTAssertEqual(try n.ids(), reference) }
        // PostgreSQL holds each event once, numbered 1…30 without a gap, and the head the nodes have.
        XCTAssertEqual(try PostgresRegistryTests.psql(url, "SELECT count(*), count(DISTINCT id), min(n), max(n) FROM events WHERE project = 'shop'"), "30|30|1|30")
        XCTAssertEqual(try PostgresRegistryTests.psql(url, "SELECT head FROM projects WHERE name = 'shop'"), reference.first)
        XCTAssertEqual(try PostgresRegistryTests.psql(url, "SELECT sum((detail::json->>'events')::int) >= 30 FROM audit WHERE action = 'push'"), "t")
        try nodes[3].ok("upgrade", "head")
        try nodes[3].ok("check")
        XCTAssertEqual(try nodes[3].sqlite("app.db", "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'n%'"), "30")
        print("six racing nodes on two registry processes: \(tally.unreachable) syncs found the killed registry gone")
    }

    func testARegistryOnPostgreSQLAnswers503WhileItRestartsAndReconnectsByItself() throws {
        guard let dir = ProcessInfo.processInfo.environment["STRATA_TEST_POSTGRES_DIR"] else {
            throw NSError(domain: "PostgresRegistryTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "STRATA_TEST_POSTGRES_DIR is not set: run the tests with ops/test"])
        }
        let url = try database()
        let registry = try RegistryProcess(store: url)
        let alpha = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
        try alpha.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
        try alpha.ok("revision", "--autogenerate", "-m", "v1")
        try alpha.ok("sync")
        try alpha.ok("revision", "-m", "v2", "--sql", "CREATE TABLE posts (id INTEGER PRIMARY KEY);")
        let script = PostgresRegistryTests.root.appendingPathComponent("ops/postgres").path
        try run(script, "pause", dir)
        defer { try? run(script, "resume", dir) }

        let down = try alpha.run("push")
        XCTAssertEqual(down.status, 4, down.stderr)
        XCTAssertTrue(down.stderr.hasPrefix("error: the registry at \(registry.url) is unreachable (HTTP 503: the registry's store is unavailable: "), down.stderr)
        let up = try alpha.ok("upgrade", "head")
        XCTAssertTrue(up.stderr.contains("the report for app.db is queued and will be sent by a later command"), up.stderr)

        try run(script, "resume", dir)
        try alpha.ok("sync") // the same registry process: it reconnected by itself
        let ids = try alpha.ids()
        XCTAssertEqual(try PostgresRegistryTests.psql(url, "SELECT string_agg(id, ',' ORDER BY n DESC) FROM events"), ids.joined(separator: ","))
        let fleet = try alpha.json("fleet", "--json") as! [String: Any]
        XCTAssertEqual((fleet["databases"] as! [[String: Any]]).first?["revision"] as? String, ids[0], "the queued report arrived")
        XCTAssertTrue(registry.process?.isRunning ?? false)
    }

    func run(_ arguments: String...) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: arguments[0])
        p.arguments = Array(arguments.dropFirst())
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw NSError(domain: arguments[0], code: Int(p.terminationStatus)) }
    }
}

extension PostgresRegistryTests {
    func testMigrateStoreMovesASQLiteStoreToPostgreSQLVerifiably() throws {
        let registry = try RegistryProcess()
        let alpha = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
        let beta = try CLI.node("beta", registry: registry, token: "s3cret-bo")
        try alpha.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n")
        try alpha.ok("revision", "--autogenerate", "-m", "users")
        try alpha.ok("revision", "-m", "posts", "--sql", "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));")
        try alpha.ok("sync")
        try beta.ok("sync")
        try beta.ok("revision", "-m", "tags", "--sql", "CREATE TABLE tags (name TEXT PRIMARY KEY);")
        try beta.ok("sync")
        let root = try CLI.node("root", registry: registry, token: "s3cret-root")
        try root.ok("pull")
        try root.ok("promote", try alpha.ids().first!, "--env", "prod")
        try alpha.ok("upgrade", "head")
        try alpha.ok("sync")
        // A database that failed is reported with its reason, which moves over too.
        try beta.write("app.db", String(repeating: "not a database ", count: 20))
        XCTAssertEqual(try beta.run("sync", "--apply", "--env", "prod").status, 2)
        let audit = try root.ok("audit", "--json").stdout
        XCTAssertTrue(audit.contains("\"failure\": \"database.not_sqlite: "), audit)
        let fleet = try root.ok("fleet", "--json").stdout
        registry.stop()

        let url = try database()
        let moved = try root.ok("registry", "migrate-store", "--from", registry.store, "--to", url)
        let head = try beta.ids().first!
        XCTAssertEqual(moved.lines, [
            "shop: 3 events, head \(head.prefix(12)), 1 environments, 2 reports, 6 audit entries; the same in \(url), 3 ids recomputed from the stored bytes",
            "migrated 1 project from \(registry.store) to \(url)",
        ])
        // Again: refused, and nothing written.
        let again = try root.run("registry", "migrate-store", "--from", registry.store, "--to", url)
        XCTAssertEqual(again.status, 2)
        XCTAssertEqual(again.stderr, "error: \(url) already holds project shop; migrate into an empty store (nothing was written)\n")
        XCTAssertEqual(try PostgresRegistryTests.psql(url, "SELECT count(*) FROM audit"), "6")
        let notPostgres = try root.run("registry", "migrate-store", "--from", registry.store, "--to", registry.store + ".copy")
        XCTAssertEqual(notPostgres.stderr, "error: --to \(registry.store).copy is not a postgres:// URL; migrate-store copies a SQLite store to PostgreSQL\n")

        // The same registry, now on PostgreSQL: a new node pulls the same log, and the fleet and the audit trail read the same.
        let onPostgres = try RegistryProcess(store: url)
        for node in [root, alpha, beta] {
            var config = try node.read("strata.toml")
            config = config.replacingOccurrences(of: registry.url, with: onPostgres.url)
            try node.write("strata.toml", config)
        }
        XCTAssertEqual(try root.ok("audit", "--json").stdout, audit)
        XCTAssertEqual(try root.ok("fleet", "--json").stdout, fleet)
        let gamma = try CLI.node("gamma", registry: onPostgres, token: "s3cret-cy")
        try gamma.ok("pull")
        XCTAssertEqual(try gamma.ids(), try beta.ids())
        try alpha.ok("sync")
        XCTAssertEqual(try alpha.ids(), try beta.ids())
    }

    /// Two registry processes on one PostgreSQL store drive one rollout:
    /// the one that started it is killed during the soak, and the other
    /// opens the next wave; every database reaches the target once.
    func testTwoRegistryProcessesDriveOneRolloutAndOneIsKilled() throws {
        let url = try database()
        let (a, b) = (try RegistryProcess(store: url), try RegistryProcess(store: url))
        let dev = try CLI.node("beta", registry: a, token: "s3cret-bo")
        let admin = try CLI.node("root", registry: a, token: "s3cret-root")
        let nodes = [try CLI.node("alpha", registry: a, token: "s3cret-ana"), try CLI.node("n1", registry: b, token: "s3cret-bo"),
                     try CLI.node("gamma", registry: b, token: "s3cret-cy")]
        func record(_ message: String, _ sql: String) throws -> String {
            let short = try dev.ok("revision", "-m", message, "--sql", sql).lines[0].prefix(12)
            try dev.ok("push")
            try admin.ok("pull")
            return try XCTUnwrap(try dev.ids().first { $0.hasPrefix(short) })
        }
        func revisions() -> [String?] { nodes.map { (try? TargetDatabase(path: $0.path("app.db"), create: false).currentRevision()) ?? "none" } }
        let r1 = try record("r1", "CREATE TABLE users (id INTEGER PRIMARY KEY);")
        try admin.ok("promote", String(r1.prefix(12)), "--env", "prod")
        let agents = try nodes.map { try AgentTests.AgentProcess($0, ["--max-backoff", "1"]) }
        AgentTests.eventually("every node at r1") { revisions() == [r1, r1, r1] }

        let r2 = try record("r2", "CREATE TABLE notes (id INTEGER PRIMARY KEY);")
        try admin.ok("promote", String(r2.prefix(12)), "--env", "prod", "--waves", "30%,100%", "--canary", "alpha", "--soak", "2")
        AgentTests.eventually("the canary at r2") { revisions()[0] == r2 }
        // Once its report is in (the soak started), the process that started the rollout dies.
        AgentTests.eventually("wave 1 reached") { ((try? nodes[1].json("rollout", "status", "--env", "prod", "--json")) as? [String: Any])?["reached_at"] as? String != nil }
        a.kill()
        AgentTests.eventually("wave 2 at r2 through the other process") { revisions() == [r2, r2, r2] }
        let status = try XCTUnwrap(try nodes[1].json("rollout", "status", "--env", "prod", "--json") as? [String: Any])
        AgentTests.eventually("the rollout done") { ((try? nodes[1].json("rollout", "status", "--env", "prod", "--json")) as? [String: Any])?["state"] as? String == "done" }
        XCTAssertEqual(status["opened"] as? Int, 2)
        for n in nodes { XCTAssertEqual(try n.sqlite("app.db", "SELECT count(*) FROM strata_history"), "2", "r1 then r2, each once") }
        _ = agents
    }

}
