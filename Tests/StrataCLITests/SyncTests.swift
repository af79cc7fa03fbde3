import Foundation
import XCTest

/// Push, pull and sync between nodes through a real registry process.
final class SyncTests: XCTestCase {
    func testConflictIsRefusedThenSyncRebasesAndMergeWorks() throws {
        let registry = try RegistryProcess()
        let alpha = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
        let beta = try CLI.node("beta", registry: registry, token: "s3cret-bo")
        try alpha.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n")
        try alpha.ok("revision", "--autogenerate", "-m", "users")
        XCTAssertEqual(try alpha.ok("push").lines, [ "pushed 1 event; registry head \(try alpha.ids()[0].prefix(12))"])
        try beta.ok("pull")
        XCTAssertEqual(try beta.ids(), try alpha.ids())

        // Both build on the same parent.
        try alpha.ok("revision", "-m", "posts", "--sql", "CREATE TABLE posts (id INTEGER PRIMARY KEY);")
        try beta.ok("revision", "-m", "tags", "--sql", "CREATE TABLE tags (id INTEGER PRIMARY KEY);")
        try beta.ok("upgrade", "head")
        try alpha.ok("push")
        let registryBefore = try CLI.node("probe", registry: registry, token: "s3cret-view")
        try registryBefore.ok("pull")
        let refused = try beta.run("push")
        XCTAssertEqual(refused.status, 3)
        XCTAssertTrue(refused.stderr.hasPrefix("error: the push builds on a stale head"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("run `strata sync`"), refused.stderr)
        try registryBefore.ok("pull")
        XCTAssertEqual(try registryBefore.ids().count, 2, "nothing was written")

        // sync re-parents beta's unpushed event onto the registry's head.
        let synced = try beta.ok("sync").stdout
        XCTAssertTrue(synced.hasPrefix("pulled 1, rebased 1, pushed 1"), synced)
        try alpha.ok("pull")
        XCTAssertEqual(try alpha.ids(), try beta.ids())
        XCTAssertEqual(try alpha.ids().count, 3)
        // beta's database was at the rebased-away revision: upgrade finds its way.
        try beta.ok("upgrade", "head")
        try beta.ok("check")

        // A merge instead of a rebase.
        try alpha.ok("revision", "-m", "a2", "--sql", "CREATE TABLE a2 (id INTEGER PRIMARY KEY);")
        try beta.ok("revision", "-m", "b2", "--sql", "CREATE TABLE b2 (id INTEGER PRIMARY KEY);")
        try alpha.ok("push")
        let merged = try beta.ok("sync", "--merge").stdout
        XCTAssertTrue(merged.contains("merged as"), merged)
        try alpha.ok("pull")
        // The same events; each node's local append order may differ.
        XCTAssertEqual(Set(try alpha.ids()), Set(try beta.ids()))
        XCTAssertEqual(try alpha.ids().count, 6)
        try alpha.ok("upgrade", "head")
        XCTAssertEqual(try alpha.sqlite("app.db", "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'strata_%' ORDER BY name)"), "a2,b2,posts,tags,users")
        try alpha.ok("verify")
        try beta.ok("verify")

        // Audit: the author, and who pushed it.
        let history = try alpha.json("history", "--json") as! [[String: Any]]
        XCTAssertTrue(history.allSatisfy { $0["pushed_by"] != nil })
        XCTAssertEqual(Set(history.map { $0["pushed_by"] as! String }), ["ana", "bo"])
        XCTAssertEqual(history.first { ($0["message"] as! String) == "tags" }?["author"] as? String, "beta@example.com")
    }

    func testPromoteApplyFleetAndAuditAcrossThreeNodes() throws {
        let registry = try RegistryProcess()
        let nodes = try [("alpha", "s3cret-ana"), ("beta", "s3cret-bo"), ("gamma", "s3cret-cy")].map { try CLI.node($0.0, registry: registry, token: $0.1) }
        try nodes[0].write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n")
        let v1 = try nodes[0].ok("revision", "--autogenerate", "-m", "v1").lines[0]
        try nodes[0].write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);\n")
        let v2 = try nodes[0].ok("revision", "--autogenerate", "-m", "v2").lines[0]
        try nodes[0].ok("push")
        for n in nodes[1...] { try n.ok("pull") }
        try nodes[2].ok("upgrade", "head") // gamma runs ahead of prod

        // Promoting needs the admin role.
        let weak = try nodes[0].run("promote", String(v1.prefix(8)), "--env", "prod")
        XCTAssertEqual(weak.status, 4)
        XCTAssertTrue(weak.stderr.contains("(403)"), weak.stderr)
        nodes[0].env["STRATA_TOKEN"] = "s3cret-root"
        try nodes[0].ok("promote", String(v1.prefix(8)), "--env", "prod")
        nodes[0].env["STRATA_TOKEN"] = "s3cret-ana"

        for n in nodes { try n.ok("sync", "--apply", "--env", "prod") }
        for n in nodes { XCTAssertEqual(try n.ok("current").stdout, v1 + "\n") } // gamma went down
        var fleet = try nodes[1].json("fleet", "--json") as! [String: Any]
        var rows = fleet["databases"] as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["node"] as! String }, ["alpha", "beta", "gamma"])
        XCTAssertTrue(rows.allSatisfy { ($0["revision"] as! String) == v1 && ($0["behind"] as! Bool) == false })
        XCTAssertTrue(rows.allSatisfy { ($0["drifted"] as? Bool) == false }, "each run checked its database: \(rows)")
        // A table added by hand on beta: its next report says the database drifted.
        _ = try nodes[1].sqlite("app.db", "CREATE TABLE scratch (x)")
        try nodes[1].ok("sync", "--apply", "--env", "prod")
        rows = (try nodes[1].json("fleet", "--json") as! [String: Any])["databases"] as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["drifted"] as? Bool }, [false, true, false])
        XCTAssertTrue(try nodes[0].ok("fleet").lines.contains { $0.hasPrefix("beta\t") && $0.hasSuffix("at target, DRIFTED") })
        _ = try nodes[1].sqlite("app.db", "DROP TABLE scratch")

        nodes[0].env["STRATA_TOKEN"] = "s3cret-root"
        try nodes[0].ok("promote", String(v2.prefix(8)), "--env", "prod")
        fleet = try nodes[1].json("fleet", "--json") as! [String: Any]
        rows = fleet["databases"] as! [[String: Any]]
        XCTAssertTrue(rows.allSatisfy { ($0["behind"] as! Bool) == true }, "\(rows)")
        XCTAssertTrue(try nodes[1].ok("fleet").stdout.contains("BEHIND"))
        try nodes[1].ok("sync", "--apply", "--env", "prod")
        rows = (try nodes[1].json("fleet", "--json") as! [String: Any])["databases"] as! [[String: Any]]
        XCTAssertEqual(rows.first { ($0["node"] as! String) == "beta" }?["behind"] as? Bool, false)

        let audit = ((try nodes[2].json("audit", "--json") as! [String: Any])["records"] as! [[String: Any]])
        let actions = audit.map { "\($0["identity"] as! String):\($0["action"] as! String)" }
        XCTAssertTrue(actions.contains("ana:push"), "\(actions)")
        XCTAssertEqual(actions.filter { $0 == "root:promote" }.count, 2)
        XCTAssertTrue(actions.contains("cy:report"))
        XCTAssertTrue(try nodes[2].ok("blame", "users.age").stdout.contains("v2"))
    }

    /// A registry and two nodes, alpha and beta, that share one pushed
    /// revision of `models` (alpha wrote it; beta pulled it). The registry
    /// process stops when the caller lets go of it.
    func twoNodes(sharing models: String) throws -> (RegistryProcess, CLI, CLI) {
        let registry = try RegistryProcess()
        let alpha = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
        let beta = try CLI.node("beta", registry: registry, token: "s3cret-bo")
        try alpha.write("models.sql", models)
        try alpha.ok("revision", "--autogenerate", "-m", "users")
        try alpha.ok("sync")
        try beta.ok("sync")
        return (registry, alpha, beta)
    }

    /// Unpushed work that changes what the registry's head already changed
    /// differently can be neither rebased nor merged: sync says so (exit 3,
    /// nothing pushed), and `sync --redo` replaces it with one revision from
    /// the registry's head to the models file. The database, migrated to the
    /// replaced revision, still finds its way to the new head.
    func testConflictingWorkIsRefusedClearlyThenRedone() throws {
        let (registry, alpha, beta) = try twoNodes(sharing: "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
        defer { withExtendedLifetime(registry) {} }
        try alpha.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, x INTEGER);\n")
        try alpha.ok("revision", "--autogenerate", "-m", "x int")
        try alpha.ok("sync")
        try beta.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, x TEXT);\n")
        let local = try beta.ok("revision", "--autogenerate", "-m", "x text").lines[0]
        try beta.ok("upgrade", "head")
        _ = try beta.sqlite("app.db", "INSERT INTO users (x) VALUES ('kept')")

        let refused = try beta.run("sync")
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("your unpushed revision (\(local.prefix(12)) \"x text\") and the registry's head"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("(cannot add column users.x: it exists)"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("run `strata sync --redo`"), refused.stderr)
        try alpha.ok("sync")
        XCTAssertEqual(try alpha.ids().count, 2, "nothing was pushed")

        let redone = try beta.ok("sync", "--redo").stdout
        XCTAssertTrue(redone.contains("replaced 1 unpushed revision with"), redone)
        XCTAssertFalse(try beta.ids().contains(local))
        let history = try beta.json("history", "--json") as! [[String: Any]]
        XCTAssertEqual(history.first?["message"] as? String, "x text")
        let op = (history.first?["ops"] as? [[String: Any]])?.first
        XCTAssertEqual(op?["op"] as? String, "alterColumn")
        XCTAssertEqual((op?["to"] as? [String: Any])?["type"] as? String, "TEXT")
        try beta.ok("upgrade", "head")
        try beta.ok("check")
        try beta.ok("verify")
        XCTAssertEqual(try beta.sqlite("app.db", "SELECT count(*) FROM users"), "1", "the row written at the replaced revision")
        try alpha.ok("sync")
        try alpha.ok("upgrade", "head")
        XCTAssertEqual(try alpha.sqlite("app.db", "SELECT type FROM pragma_table_info('users') WHERE name = 'x'"), "TEXT")
        XCTAssertEqual(try alpha.ids(), try beta.ids())

        // Local work undone in the models file: --redo drops it.
        try beta.ok("revision", "-m", "scratch", "--sql", "CREATE TABLE scratch (id INTEGER PRIMARY KEY);")
        let dropped = try beta.ok("sync", "--redo").stdout
        XCTAssertTrue(dropped.contains("dropped 1 unpushed revision (the models file equals the registry's head)"), dropped)
        XCTAssertEqual(try alpha.ids(), try beta.ids())
        XCTAssertEqual(try beta.ok("heads").lines.count, 1)
    }

    /// `sync --redo` takes rename hints, so redone work keeps a renamed
    /// column's data instead of dropping and adding it.
    func testRedoKeepsRenames() throws {
        let (registry, alpha, beta) = try twoNodes(sharing: "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n")
        defer { withExtendedLifetime(registry) {} }
        try alpha.ok("upgrade", "head")
        _ = try alpha.sqlite("app.db", "INSERT INTO users (name) VALUES ('ana')")
        try alpha.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);\n")
        try alpha.ok("revision", "--autogenerate", "-m", "age int")
        try alpha.ok("sync")
        try beta.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, age TEXT);\n")
        try beta.ok("revision", "--autogenerate", "-m", "full name, age text", "--rename", "users.name=full_name")
        XCTAssertEqual(try beta.run("sync").status, 3)
        let usage = try beta.run("sync", "--rename", "users.name=full_name")
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.stderr.contains("--rename goes with --redo"), usage.stderr)

        try beta.ok("sync", "--redo", "--rename", "users.name=full_name")
        let history = try beta.json("history", "--json") as! [[String: Any]]
        let ops = (history.first?["ops"] as? [[String: Any]] ?? []).compactMap { $0["op"] as? String }
        XCTAssertEqual(ops, ["renameColumn", "alterColumn"])
        try alpha.ok("sync")
        try alpha.ok("upgrade", "head")
        XCTAssertEqual(try alpha.sqlite("app.db", "SELECT full_name FROM users"), "ana", "renamed, not dropped and added")
    }

    func testSixNodesRacingConvergeWithNothingLostOrDuplicated() throws {
        let registry = try RegistryProcess()
        let tokens = ["s3cret-ana", "s3cret-bo", "s3cret-cy", "s3cret-ana", "s3cret-bo", "s3cret-cy"]
        let nodes = try (0..<6).map { try CLI.node("n\($0)", registry: registry, token: tokens[$0]) }
        let perNode = 5
        final class Errors: @unchecked Sendable {
            let lock = NSLock()
            var list: [String] = []
            func add(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
        }
        let errors = Errors()
        DispatchQueue.concurrentPerform(iterations: nodes.count) { i in
            for k in 0..<perNode {
                do {
                    let r1 = try nodes[i].run("revision", "-m", "n\(i) r\(k)", "--sql", "CREATE TABLE n\(i)_\(k) (id INTEGER PRIMARY KEY, v TEXT);")
                    let r2 = try nodes[i].run("sync")
                    if r1.status != 0 || r2.status != 0 {
                        errors.add("n\(i) r\(k): \(r1.stderr) \(r2.stderr)")
                    }
                } catch {
                    errors.add("\(error)")
                }
            }
        }
        XCTAssertEqual(errors.list, [])
        for n in nodes { try n.ok("sync") }
        let reference = try nodes[0].ids()
        XCTAssertEqual(reference.count, nodes.count * perNode, "none lost")
        XCTAssertEqual(Set(reference).count, reference.count, "none duplicated")
        for n in nodes { XCTAssertEqual(try n.ids(), reference) }
        let messages = Set((try nodes[3].json("history", "--json") as! [[String: Any]]).map { $0["message"] as! String })
        XCTAssertEqual(messages.count, nodes.count * perNode)
        try nodes[3].ok("upgrade", "head")
        try nodes[3].ok("check")
        XCTAssertEqual(try nodes[3].sqlite("app.db", "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'n%'"), "30")
    }
}
