import Foundation
import StrataLog
import StrataCore
import StrataStore
import XCTest

/// Bad input: a clear `error:` that says what to do, the exit code of
/// docs/CONTRACT.md, and no change to any log or database.
final class BadInputTests: XCTestCase {
    var cli: CLI!
    var r1 = ""

    override func setUpWithError() throws {
        cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n")
        r1 = try cli.ok("revision", "--autogenerate", "-m", "v1").lines[0]
        try cli.ok("upgrade", "head")
    }

    /// Runs a command that must fail, and checks that no file changed.
    func refuse(_ args: String..., status: Int32 = 2, saying expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try cli.tree()
        let r = try cli.run(args)
        XCTAssertEqual(r.status, status, "strata \(args.joined(separator: " ")): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("error: "), r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(expected), "expected «\(expected)» in: \(r.stderr)", file: file, line: line)
        XCTAssertEqual(try cli.tree(), before, "nothing may change", file: file, line: line)
    }

    func testInvalidSQLInTheModelsFile() throws {
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE broken (id INTEGER,, x);\n")
        try refuse("revision", "--autogenerate", "-m", "x", saying: "models.sql: statement at line 2: near \",\": syntax error")
        // Exactly that: a models error is strata's own (StrataError), not a usage error with a pointer to --help.
        XCTAssertEqual(try cli.run("revision", "--autogenerate", "-m", "x").stderr, "error: models.sql: statement at line 2: near \",\": syntax error\n")
    }

    /// A newline in a database path would print a fake line in every
    /// listing, log and report of it: refused when named, skipped (with a
    /// warning showing it escaped) when a glob finds it.
    func testADatabasePathWithAControlCharacter() throws {
        try refuse("upgrade", "head", "--db", "evil\nup   0000  all good.db",
                   saying: "error: the database path evil\\u{a}up   0000  all good.db holds a control or bidirectional character; rename the file\n")
        try refuse("current", "--db", "\u{202E}bd.ppa", saying: "the database path \\u{202e}bd.ppa holds")
        try FileManager.default.createDirectory(atPath: cli.path("t"), withIntermediateDirectories: true)
        for name in ["a.db", "b\nfake.db"] { _ = FileManager.default.createFile(atPath: cli.path("t/\(name)"), contents: nil) }
        let run = try cli.run("upgrade", "head", "--db", "t/*.db")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "warning: skipped \(cli.path("t"))/b\\u{a}fake.db: its name holds a control or bidirectional character; rename the file\n")
        XCTAssertFalse(run.stdout.contains("fake"), run.stdout)
    }

    func testUnknownAndMalformedRevisions() throws {
        try refuse("show", "ffff", saying: "no revision starts with ffff in the local log (see `strata history`)")
        try refuse("schema", "--at", "xyz", saying: "xyz is not a revision: name one by `head`, `base`, or 4 or more hex digits")
        try refuse("upgrade", "abc", saying: "is not a revision")
    }

    func testAnAmbiguousRevisionPrefix() throws {
        // Events are added until two ids share a 4-digit prefix (birthday
        // bound: about 320 expected out of 65536 prefixes). The ids depend on
        // r1's time, so the count cannot be fixed in advance; stopping at the
        // first shared prefix makes it shared by exactly 2.
        let log = try SQLiteEventLog(path: cli.path(".strata/log.db"))
        var parent = r1
        var seen = [String(r1.prefix(4)): r1]
        var events: [Event] = []
        var shared: String?
        var n = 0
        while shared == nil, n < 5000 {
            let e = Event(parents: [parent], author: "a", timestamp: Int64(n), message: "e\(n)",
                          ops: [.createTable(Table(name: "t\(n)", columns: [Column(name: "id")]), indexes: [], triggers: [])])
            events.append(e)
            parent = e.id
            let key = String(e.id.prefix(4))
            if seen[key] != nil { shared = key } else { seen[key] = e.id }
            n += 1
        }
        try log.append(events, expectedHeads: [r1])
        let prefix = try XCTUnwrap(shared, "5000 events without a shared 4-digit prefix")
        try refuse("show", prefix, saying: "\(prefix) is ambiguous: it starts 2 revisions")
        try refuse("upgrade", prefix, saying: "is ambiguous")
    }

    func testDowngradePastBase() throws {
        try refuse("downgrade", "-3", saying: "cannot downgrade 3 revisions: the database is only 1 above base; use `strata downgrade base`")
    }

    func testADatabaseAtARevisionNobodyKnows() throws {
        _ = try cli.sqlite("app.db", "UPDATE strata_version SET revision = '\(String(repeating: "ab", count: 32))'")
        try refuse("upgrade", "head", saying: "is at revision abababababab, which neither the local log nor the database's own records hold")
        try refuse("downgrade", "-1", saying: "which neither the local log nor the database's own records hold")
    }

    func testASecondMigrationAtTheSameTimeIsRefused() throws {
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);\n")
        try cli.ok("revision", "--autogenerate", "-m", "v2")
        let holder = try LockHolder(cli.path("app.db"))
        try refuse("upgrade", "head", saying: "is locked by another process (another migration?); wait for it to finish and run the command again")
        holder.release()
        try cli.ok("upgrade", "head")
    }

    func testUsageErrors() throws {
        try refuse("revision", "-m", "x", saying: "give exactly one of --autogenerate, --sql and --exec")
        try refuse("revision", "--autogenerate", "-m", "x", "--rename", "nonsense", saying: "--rename nonsense: expected TABLE.OLD=NEW")
        try refuse("revision", "--autogenerate", "-m", "x", "--rename", "users.nope=x", saying: "error: --rename users.nope=x: there is no column users.nope at head\n")
        try refuse("upgrade", "-1", saying: "Unknown option '-1'")
        try refuse("upgrade", "+0", saying: "+0: expected +N with N a positive number")
        try refuse("downgrade", saying: "missing the target")
        try refuse("frobnicate", saying: "Unexpected argument 'frobnicate'")
        try refuse("init", saying: "exists already")
        try refuse("materialize", "head", "--out", "app.db", saying: "exists; materialize writes a new file only")
        try refuse("merge", "-m", "x", saying: "there is nothing to merge")
    }

    func testNoProjectHere() throws {
        let empty = try CLI()
        let r = try empty.run("history")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("error: no strata.toml in"), r.stderr)
        XCTAssertTrue(r.stderr.contains("run `strata init` there, or pass -C DIR"), r.stderr)
    }

    func testAFailingUpgradeLeavesEverythingAsItWas() throws {
        _ = try cli.sqlite("app.db", "INSERT INTO users (name) VALUES ('a'), ('a')")
        try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE);\n")
        try cli.ok("revision", "--autogenerate", "-m", "unique names")
        try refuse("upgrade", "head", saying: "MF102: users holds 1 value of (name) in more than one row, so UNIQUE (name) cannot be built")
        XCTAssertEqual(try cli.ok("current").stdout, r1 + "\n")
    }

    func testTamperingIsFoundByVerify() throws {
        try cli.ok("verify")
        // Change one byte of the stored event: "users" -> "usert".
        _ = try cli.sqlite(".strata/log.db", "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), '\"name\":\"users\"', '\"name\":\"usert\"') AS BLOB)")
        let r = try cli.run("verify")
        XCTAssertEqual(r.status, 1)
        let json = try JSONSerialization.jsonObject(with: Data(try cli.run("verify", "--json").stdout.utf8)) as! [String: Any]
        XCTAssertEqual(json["ok"] as? Bool, false)
        XCTAssertEqual((json["problems"] as? [[String: Any]])?.first?["id"] as? String, r1)
        XCTAssertTrue(r.stdout.contains("MISMATCH event #1 \(r1.prefix(12)): its id does not match the SHA-256 of its contents"), r.stdout)
    }

    /// With --json a failure is also one JSON document on stdout: the stable
    /// code, the message and the exit code, for scripts.
    func testAFailureWithJSONPrintsItsCode() throws {
        let r = try cli.run("show", "ffff", "--json")
        XCTAssertEqual(r.status, 2)
        let error = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "log.not_found")
        XCTAssertEqual(error["exit"] as? Int, 2)
        XCTAssertEqual(error["message"] as? String, "no revision starts with ffff in the local log (see `strata history`)")
        XCTAssertEqual(r.stderr, "error: no revision starts with ffff in the local log (see `strata history`)\n")

        _ = try cli.sqlite("app.db", "CREATE TABLE extra (x)")
        let drift = try cli.run("check", "--json")
        XCTAssertEqual(drift.status, 1, "a difference found is not an error: no error document")
        XCTAssertFalse(drift.stdout.contains("\"error\""), drift.stdout)
    }

    /// `strata registry serve` runs the server executable beside strata; a
    /// strata copied alone says what is missing and how to get it.
    func testRegistryServeNamesAMissingServer() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-alone-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let alone = dir.appendingPathComponent("strata")
        try FileManager.default.copyItem(at: CLI.binary, to: alone)
        let p = Process()
        p.executableURL = alone
        p.arguments = ["registry", "serve", "--store", dir.appendingPathComponent("r.db").path]
        let r = try CLI.finish(p)
        let text = String(decoding: r.stderr, as: UTF8.self)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(text, "error: the registry server strata-registry is not beside \(alone.resolvingSymlinksInPath().path) nor in "
            + "\(dir.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("libexec/strata").path); "
            + "build it (`swift build --product strata-registry`, which ops/setup does) and keep it beside strata\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("r.db").path), "nothing created")
    }
}
