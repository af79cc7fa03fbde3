import Foundation
import StrataCore
import StrataSQLite
import XCTest

/// One database per tenant: hundreds of files, a few of them bad. Every
/// healthy tenant reaches head, each bad one is named with its reason, a
/// summary closes the run, and the exit code says that some failed.
final class TenantTests: XCTestCase {
    var cli: CLI!
    var head = ""
    let tenants = 300

    override func setUpWithError() throws {
        cli = try CLI()
        // The second entry matches only the log itself, which is never a tenant.
        try cli.ok("init", "--models", "models.sql", "--db", "tenants/*", "--db", ".strata/*.db")
        for n in 0..<5 { head = try cli.ok("revision", "-m", "r\(n)", "--sql", "CREATE TABLE t\(n) (id INTEGER PRIMARY KEY, v TEXT);").lines[0] }
        try FileManager.default.createDirectory(atPath: cli.path("tenants"), withIntermediateDirectories: true)
        for n in 0..<tenants { XCTAssertTrue(FileManager.default.createFile(atPath: cli.path(String(format: "tenants/t%03d.db", n)), contents: Data())) }
        // Matched by the pattern, but SQLite's side files, never tenants.
        XCTAssertTrue(FileManager.default.createFile(atPath: cli.path("tenants/gone.db-wal"), contents: Data("x".utf8)))
        XCTAssertTrue(FileManager.default.createFile(atPath: cli.path("tenants/gone.db-journal"), contents: Data("x".utf8)))
    }

    func revision(_ name: String) throws -> String? { try TargetDatabase(path: cli.path(name), create: false).currentRevision() }

    func testBadTenantsAreNamedAndTheOthersReachHead() throws {
        try cli.write("tenants/bad_garbage.db", String(repeating: "this is not a database ", count: 100))
        _ = try cli.sqlite("tenants/bad_drifted.db", "CREATE TABLE hand (x)")
        _ = try cli.sqlite("tenants/bad_unknown.db", """
            CREATE TABLE strata_version (id INTEGER PRIMARY KEY CHECK (id = 1), revision TEXT NOT NULL, updated_at TEXT NOT NULL);
            INSERT INTO strata_version VALUES (1, '\(String(repeating: "ab", count: 32))', 'then');
            """)
        let drifted = try Data(contentsOf: URL(fileURLWithPath: cli.path("tenants/bad_drifted.db")))

        let r = try cli.run("upgrade", "head", "--all", "--jobs", "2")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.lines.last, "\(tenants) upgraded, 3 failed (1 not a database, 1 unknown revision, 1 drifted)")
        XCTAssertEqual(r.lines.count, tenants + 1, "one line per database, then the summary")
        let errors = r.stderr.split(separator: "\n").map(String.init)
        XCTAssertTrue(errors.contains("warning: .strata/*.db matches no database"), r.stderr)
        XCTAssertTrue(errors.contains { $0.hasPrefix("error: \(cli.path("tenants/bad_garbage.db")) is not an SQLite database (file is not a database)") }, r.stderr)
        XCTAssertTrue(errors.contains { $0.hasPrefix("error: database \(cli.path("tenants/bad_drifted.db")) has drifted from its recorded revision base (create table hand (x))") }, r.stderr)
        XCTAssertTrue(errors.contains { $0.hasPrefix("error: database \(cli.path("tenants/bad_unknown.db")) is at revision abababababab, which neither") }, r.stderr)
        XCTAssertEqual(errors.filter { $0.hasPrefix("error: ") }.count, 3)
        for n in 0..<tenants { XCTAssertEqual(try revision(String(format: "tenants/t%03d.db", n)), head) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: cli.path("tenants/bad_drifted.db"))), drifted, "left exactly as it was")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cli.path("tenants/*")), "the pattern is not taken as a file name")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: cli.path("tenants/gone.db-wal"))), Data("x".utf8), "side files untouched")

        // Again: the healthy ones are there already; only the failed ones are retried.
        let again = try cli.run("upgrade", "head", "--all")
        XCTAssertEqual(again.lines.last, "\(tenants) already at head, 3 failed (1 not a database, 1 unknown revision, 1 drifted)")
        _ = try cli.sqlite("tenants/bad_drifted.db", "DROP TABLE hand")
        let retry = try cli.run("upgrade", "head", "--retry-failed", "--json")
        XCTAssertEqual(retry.status, 2)
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(retry.stdout.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(doc["databases"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["database"] as? String }, ["bad_drifted", "bad_garbage", "bad_unknown"].map { cli.path("tenants/\($0).db") })
        XCTAssertEqual(rows.map { $0["outcome"] as? String }, ["migrated", "failed", "failed"])
        XCTAssertEqual(rows.map { $0["reason"] as? String }, [nil, "not_a_database", "unknown_revision"])
        XCTAssertEqual(doc["summary"] as? [String: Int], ["upgraded": 1, "failed": 2])
        XCTAssertEqual(try cli.run("upgrade", "head", "--retry-failed").lines.last, "2 failed (1 not a database, 1 unknown revision)")

        // status: by revision, the bad ones counted apart.
        let status = try cli.run("status", "--all")
        XCTAssertEqual(status.status, 2)
        XCTAssertEqual(status.lines.last, "\(tenants + 1) at \(head.prefix(12)) (head), 2 unreadable")
    }

    func testFailFastStopsAtTheFirstFailure() throws {
        _ = try cli.sqlite("tenants/bad_drifted.db", "CREATE TABLE hand (x)")
        let r = try cli.run("upgrade", "head", "--all", "--jobs", "1", "--fail-fast")
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.lines, ["1 failed (1 drifted)"], "bad_drifted.db sorts first; nothing after it was attempted")
        XCTAssertNil(try revision("tenants/t000.db"))
        // --ignore-drift migrates it as it is.
        let one = try cli.run("upgrade", "head", "--db", "tenants/bad_drifted.db", "--ignore-drift")
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertEqual(try revision("tenants/bad_drifted.db"), head)
    }

    func testASingleDriftedDatabaseIsRefusedWithTheDriftNamed() throws {
        _ = try cli.sqlite("tenants/t007.db", "CREATE TABLE hand (x)")
        let r = try cli.run("upgrade", "head", "--db", "tenants/t007.db")
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "error: database \(cli.path("tenants/t007.db")) has drifted from its recorded revision base (create table hand (x)), "
            + "so nothing was run; `strata check` shows the difference: bring the schema back, or pass --ignore-drift to migrate it as it is\n")
        XCTAssertEqual(r.stdout, "")
    }

    func testAPatternMatchingSeveralNeedsAllOrDb() throws {
        let r = try cli.run("upgrade", "head")
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "error: tenants/* matches \(tenants) databases; pass --all to act on every one, or --db PATH for one\n")
        XCTAssertNil(try revision("tenants/t000.db"), "nothing was migrated")
    }

    func testLockedAndReadOnlyTenantsFailAndTheOthersGoOn() throws {
        // A lock held by another process: refused at once...
        let holder = try LockHolder(cli.path("tenants/t001.db"))
        // ...and a file that cannot be written (immutable even for root).
        let frozen = cli.path("tenants/t002.db")
        let chattr = Process()
        chattr.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        chattr.arguments = ["+i", frozen]
        try chattr.run()
        chattr.waitUntilExit()
        XCTAssertEqual(chattr.terminationStatus, 0, "chattr +i")
        defer {
            let undo = Process()
            undo.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
            undo.arguments = ["-i", frozen]
            try? undo.run()
            undo.waitUntilExit()
        }
        let r = try cli.run("upgrade", "head", "--all")
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.lines.last, "\(tenants - 2) upgraded, 2 failed (1 locked, 1 read only)")
        XCTAssertTrue(r.stderr.contains("error: database \(cli.path("tenants/t001.db")) is locked by another process"), r.stderr)
        XCTAssertTrue(r.stderr.contains("error: database \(frozen) cannot be written"), r.stderr)

        // --wait: the run waits for the lock, which is let go a moment later.
        let waiting = cli.process(["upgrade", "head", "--db", "tenants/t001.db", "--wait", "30"])
        let out = Pipe()
        waiting.standardOutput = out
        waiting.standardError = FileHandle.nullDevice
        try waiting.run()
        usleep(300_000)
        holder.release()
        XCTAssertTrue(waiting.waitForExit(within: 60), "upgrade --wait 30 still runs a minute later")
        if waiting.isRunning { Foundation.kill(waiting.processIdentifier, SIGKILL); waiting.waitUntilExit() }
        XCTAssertEqual(waiting.terminationStatus, 0)
        XCTAssertEqual(try revision("tenants/t001.db"), head)
    }

    /// A run over many databases reports to the registry in one request, and
    /// the fleet shows the node's databases by revision; `sync --apply` goes
    /// on past a bad tenant too.
    func testTheFleetHearsOfManyDatabasesInOneRequest() throws {
        let registry = try RegistryProcess()
        let node = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
        try node.write("strata.toml", try node.read("strata.toml").replacingOccurrences(of: "databases = [\"app.db\"]", with: "databases = [\"t/*.db\"]"))
        let head = try node.ok("revision", "-m", "one", "--sql", "CREATE TABLE one (id INTEGER PRIMARY KEY);").lines[0]
        try node.ok("push")
        try FileManager.default.createDirectory(atPath: node.path("t"), withIntermediateDirectories: true)
        for n in 0..<40 { XCTAssertTrue(FileManager.default.createFile(atPath: node.path("t/\(n).db"), contents: Data())) }
        try node.write("t/zz_garbage.db", "garbage garbage garbage garbage garbage garbage garbage garbage garbage garbage garbage garbage")

        let r = try node.run("upgrade", "head", "--all")
        XCTAssertEqual(r.lines.last, "40 upgraded, 1 failed (1 not a database)")
        registry.stop()
        let requests = try String(contentsOfFile: registry.logPath, encoding: .utf8).components(separatedBy: "hb.request.method=POST hb.request.path=/v1/projects/shop/reports").count - 1
        XCTAssertEqual(requests, 1, "40 reports, one request")
        try registry.start()

        let fleet = try node.ok("fleet")
        XCTAssertTrue(fleet.lines.contains("alpha\t40 at \(head.prefix(12))"), fleet.stdout)
        let json = try XCTUnwrap(try node.json("fleet", "--json") as? [String: Any])
        let nodes = try XCTUnwrap(json["nodes"] as? [[String: Any]])
        XCTAssertEqual(nodes.count, 1)
        XCTAssertEqual((nodes[0]["revisions"] as? [[String: Any]])?.map { $0["databases"] as? Int }, [40])

        // An environment one revision back: every tenant moves down, the bad one is named.
        let admin = try CLI.node("root", registry: registry, token: "s3cret-root")
        try admin.ok("pull")
        try node.ok("revision", "-m", "two", "--sql", "CREATE TABLE two (id INTEGER PRIMARY KEY);")
        try node.ok("push")
        try admin.ok("pull")
        try admin.ok("promote", String(head.prefix(12)), "--env", "prod")
        XCTAssertEqual(try node.run("upgrade", "head", "--all").lines.last, "40 upgraded, 1 failed (1 not a database)")
        let apply = try node.run("sync", "--apply", "--env", "prod", "--jobs", "2")
        XCTAssertEqual(apply.status, 2, apply.stderr)
        XCTAssertEqual(apply.lines.last, "40 migrated, 1 failed (1 not a database)")
        XCTAssertEqual(try TargetDatabase(path: node.path("t/7.db"), create: false).currentRevision(), head)
    }

    /// downgrade, stamp and check go on past a bad file too; a tenant whose
    /// own migration fails is named with the event and statement; a
    /// terminal gets a progress line, a pipe none.
    func testEveryCommandGoesOnPastAFailure() throws {
        try cli.write("tenants/bad_garbage.db", String(repeating: "not a database ", count: 100))
        // On a terminal (`script` gives the run one): a progress line on stderr.
        let tty = Process()
        tty.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        tty.arguments = ["-qec", "\(CLI.binary.path) upgrade head --all --jobs 2", "/dev/null"]
        tty.currentDirectoryURL = cli.dir
        tty.standardInput = FileHandle.nullDevice
        let screen = String(decoding: try CLI.finish(tty).stdout, as: UTF8.self)
        XCTAssertTrue(screen.contains("\(tenants + 1)/\(tenants + 1) done, 1 failed"), screen.suffix(300).description)
        XCTAssertTrue(screen.contains("\(tenants) upgraded, 1 failed (1 not a database)"), screen.suffix(300).description)

        let check = try cli.run("check", "--all")
        XCTAssertEqual(check.status, 2)
        XCTAssertEqual(check.lines.last, "\(tenants) clean, 1 failed (1 not a database)")
        XCTAssertFalse(check.stderr.contains("\r"), "no progress line when stderr is not a terminal")

        // One tenant's own migration fails: it is named, with the event and the statement.
        _ = try cli.sqlite("tenants/t005.db", "INSERT INTO t0 (v) VALUES ('x'), ('x')")
        let unique = try cli.ok("revision", "-m", "unique v", "--sql", "CREATE UNIQUE INDEX ux ON t0 (v);").lines[0]
        let up = try cli.run("upgrade", "head", "--all")
        XCTAssertEqual(up.lines.last, "\(tenants - 1) upgraded, 2 failed (1 not a database, 1 migration failed)")
        XCTAssertTrue(up.stderr.contains("error: \(cli.path("tenants/t005.db")): upgrade failed at event \(unique.prefix(12)): MF102: t0 holds 1 value of (v) "
            + "in more than one row, so unique index ux cannot be built: remove the duplicates first (a data step), or drop the uniqueness\n"
            + "the database was left exactly as it was\n"), up.stderr)

        let status = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try cli.run("status", "--all", "--json").stdout.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(status["databases"] as? [[String: Any]])
        XCTAssertEqual(rows.first { $0["database"] as? String == cli.path("tenants/t005.db") }?["behind"] as? Int, 1)
        XCTAssertEqual(rows.first { $0["database"] as? String == cli.path("tenants/t006.db") }?["behind"] as? Int, 0)
        XCTAssertEqual(status["summary"] as? [String: Int], ["read": tenants, "failed": 1])

        let down = try cli.run("downgrade", "base", "--all", "--jobs", "2")
        XCTAssertEqual(down.status, 2)
        XCTAssertEqual(down.lines.last, "\(tenants) downgraded, 1 failed (1 not a database)")
        let stamp = try cli.run("stamp", "head", "--all")
        XCTAssertEqual(stamp.status, 2)
        XCTAssertEqual(stamp.lines.last, "\(tenants) stamped, 1 failed (1 not a database)")
    }
}
