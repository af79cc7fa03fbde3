import Foundation
import StrataCore
import StrataSQLite
import StrataStore
import XCTest

/// Kills strata at random instants while it appends and while it migrates:
/// the log stays readable with a prefix of its events, and the database is
/// at its old or its new revision with a matching schema.
final class CrashTests: XCTestCase {
    func kill(_ p: Process, afterMicroseconds delay: UInt32) {
        usleep(delay)
        if p.isRunning { Foundation.kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    func testKilledMigrationsLeaveTheOldOrTheNewRevision() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        // A long log, written through the library for speed.
        let log = try SQLiteEventLog(path: cli.path(".strata/log.db"))
        var parent: String?
        var events: [Event] = []
        for n in 0..<150 {
            let t = Table(name: "t\(n)", columns: [Column(name: "id", type: "INTEGER"), Column(name: "v", type: "TEXT")],
                          constraints: TableConstraints(primaryKey: ["id"]))
            let e = Event(parents: parent.map { [$0] } ?? [], author: "crash", timestamp: Int64(n), message: "t\(n)",
                          ops: [.createTable(t, indexes: [Index(name: "ix\(n)", table: "t\(n)", terms: ["v"])], triggers: [])])
            events.append(e)
            parent = e.id
        }
        try log.append(events, expectedHeads: [])
        // The database exists at base, so a kill before the first write still reads as base.
        try cli.ok("stamp", "base")
        var rng = SystemRandomNumberGenerator()
        var outcomes: [String: Int] = [:]
        for trial in 0..<30 {
            let up = trial % 2 == 0
            let p = cli.process(up ? ["upgrade", "head"] : ["downgrade", "base"])
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            kill(p, afterMicroseconds: UInt32.random(in: 1_000...120_000, using: &rng))
            let current = try cli.run("current").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertTrue(current == "base" || current == parent, "trial \(trial): \(current)")
            outcomes[current == "base" ? "base" : "head", default: 0] += 1
            let check = try cli.run("check")
            XCTAssertEqual(check.status, 0, "trial \(trial): \(check.stdout) \(check.stderr)")
            // Finish the move so the next trial starts from a known place.
            if up { try cli.ok("upgrade", "head") } else { try cli.ok("downgrade", "base") }
        }
        print("migration kills: \(outcomes)")
    }

    func testKilledAppendsLeaveAReadablePrefix() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        var rng = SystemRandomNumberGenerator()
        var expected = 0
        var outcomes: [String: Int] = [:]
        for trial in 0..<30 {
            let p = cli.process(["revision", "-m", "trial \(trial)", "--sql", "CREATE TABLE c\(trial) (id INTEGER PRIMARY KEY, v TEXT);"])
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            kill(p, afterMicroseconds: UInt32.random(in: 1_000...40_000, using: &rng))
            let verify = try cli.run("verify")
            XCTAssertEqual(verify.status, 0, "trial \(trial): \(verify.stdout)")
            let count = (try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json").stdout.utf8)) as! [Any]).count
            XCTAssertTrue(count == expected || count == expected + 1, "trial \(trial): \(count) events, expected \(expected) or one more")
            outcomes[count == expected ? "old" : "new", default: 0] += 1
            expected = count
        }
        try cli.ok("upgrade", "head")
        try cli.ok("check")
        print("append kills: \(outcomes)")
    }
}
