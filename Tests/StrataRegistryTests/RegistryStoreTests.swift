import Foundation
import StrataCore
import StrataRegistry
import StrataTestSupport
import StrataWire
import XCTest

/// One contract, run against both registry stores. (Explicit test methods
/// call it: Linux's test discovery skips inherited tests.)
struct RegistryStoreContract {
    let make: () async throws -> any RegistryStore

    static func chain(_ n: Int, from parent: String? = nil, tag: String = "t") -> [Event] { eventChain(n, from: parent, tag: tag) }

    func pushIsCompareAndSwapAndAllOrNothing() async throws {
        let store = try await make()
        try await store.createProject("shop", by: "admin", at: "t0")
        await assertThrows(try await store.push([], to: "nope", base: nil, by: "a", at: "t")) { XCTAssertEqual($0 as? RegistryError, .unknownProject("nope")) }
        let first = RegistryStoreContract.chain(3)
        await assertEqual(try await store.push(first, to: "shop", base: nil, by: "ana", at: "t1"), first[2].id)
        // Stale base: refused with the head, nothing written.
        let other = RegistryStoreContract.chain(1, from: first[0].id, tag: "x")
        await assertThrows(try await store.push(other, to: "shop", base: first[0].id, by: "bo", at: "t2")) {
            XCTAssertEqual($0 as? RegistryError, .conflict(head: first[2].id))
        }
        // A batch whose last event does not apply is refused whole.
        var batch = RegistryStoreContract.chain(2, from: first[2].id, tag: "y")
        batch.append(Event(parents: [batch[1].id], author: "a", timestamp: 9, message: "dup",
                           ops: [.createTable(Table(name: "t0", columns: [Column(name: "id")]), indexes: [], triggers: [])]))
        await assertThrows(try await store.push(batch, to: "shop", base: first[2].id, by: "bo", at: "t3")) {
            XCTAssertTrue("\($0)".contains("the name is taken"), "\($0)")
        }
        // Events that leave two heads are refused.
        await assertThrows(try await store.push(other, to: "shop", base: first[2].id, by: "bo", at: "t3")) {
            XCTAssertTrue("\($0)".contains("do not extend the registry's head"), "\($0)")
        }
        await assertEqual(try await store.count(of: "shop"), 3)
        await assertEqual(try await store.audit(of: "shop").map(\.action), ["create-project", "push"])
    }

    func projectsAreSeparateLogs() async throws {
        let store = try await make()
        try await store.createProject("a", by: "admin", at: "t0")
        try await store.createProject("b", by: "admin", at: "t0")
        await assertThrows(try await store.createProject("a", by: "admin", at: "t0")) { XCTAssertEqual($0 as? RegistryError, .projectExists("a")) }
        let events = RegistryStoreContract.chain(3)
        _ = try await store.push(events, to: "a", base: nil, by: "ana", at: "t1")
        await assertEqual(try await store.count(of: "b"), 0)
        await assertEqual(try await store.head(of: "b"), nil)
        // The same events can start another project's log independently.
        await assertEqual(try await store.push(Array(events.prefix(1)), to: "b", base: nil, by: "bo", at: "t2"), events[0].id)
        await assertEqual(try await store.head(of: "a"), events[2].id)
        await assertEqual(try await store.events(of: "b", after: nil, limit: 10).events.map(\.pushedBy), ["bo"])
        await assertEqual(try await store.audit(of: "b").map(\.action), ["create-project", "push"])
    }

    func pullIsIncrementalAndPaged() async throws {
        let store = try await make()
        try await store.createProject("shop", by: "admin", at: "t0")
        let events = RegistryStoreContract.chain(25)
        _ = try await store.push(events, to: "shop", base: nil, by: "ana", at: "t1")
        var after: String?
        var seen: [String] = []
        while true {
            let page = try await store.events(of: "shop", after: after, limit: 10)
            seen += page.events.map(\.event.id)
            XCTAssertTrue(page.events.allSatisfy { $0.pushedBy == "ana" && $0.pushedAt == "t1" })
            after = page.events.last?.event.id
            if !page.more { break }
        }
        XCTAssertEqual(seen, events.map(\.id))
        await assertEqual(try await store.events(of: "shop", after: events[24].id, limit: 10).events.count, 0)
        await assertThrows(try await store.events(of: "shop", after: String(repeating: "f", count: 64), limit: 10))
    }

    func signaturesAreKeptBesideTheEvents() async throws {
        let store = try await make()
        try await store.createProject("shop", by: "admin", at: "t0")
        let key = SigningKey.generate()
        let chain = RegistryStoreContract.chain(3)
        let events = [try key.sign(chain[0]), chain[1], try key.sign(chain[2])]
        _ = try await store.push(events, to: "shop", base: nil, by: "ana", at: "t1")
        let back = try await store.events(of: "shop", after: nil, limit: 10).events.map(\.event)
        XCTAssertEqual(back.map(\.signature), events.map(\.signature))
        XCTAssertEqual(back.map(\.signature?.signedBy), [key.publicKeyText, nil, key.publicKeyText])
    }

    func targetsReportsAndAudit() async throws {
        let store = try await make()
        try await store.createProject("shop", by: "admin", at: "t0")
        let events = RegistryStoreContract.chain(2)
        _ = try await store.push(events, to: "shop", base: nil, by: "ana", at: "t1")
        await assertThrows(try await store.setTarget(String(repeating: "e", count: 64), environment: "prod", of: "shop", by: "root", at: "t2"))
        try await store.setTarget(events[0].id, environment: "prod", of: "shop", by: "root", at: "t2")
        try await store.record([Report(node: "n1", database: "app.db", revision: events[0].id, direction: .up, at: "t3", environment: "prod")], of: "shop", by: "ana", at: "t3")
        try await store.record([Report(node: "n1", database: "app.db", revision: events[1].id, direction: .up, at: "t4", environment: "prod")], of: "shop", by: "ana", at: "t4")
        await assertEqual(try await store.targets(of: "shop").map(\.revision), [events[0].id])
        await assertEqual(try await store.reports(of: "shop").map(\.report.revision), [events[1].id], "the latest report per database")
        await assertEqual(try await store.audit(of: "shop").map { "\($0.identity):\($0.action)" },
                       ["admin:create-project", "ana:push", "root:promote", "ana:report", "ana:report"])
    }

    /// A rollout is written by compare-and-swap on its version, with the
    /// environment's target and the audit entry in the same transaction;
    /// a failed database's report keeps its reason.
    func rolloutsAreComparedAndSwapped() async throws {
        let store = try await make()
        try await store.createProject("shop", by: "admin", at: "t0")
        let events = RegistryStoreContract.chain(2)
        _ = try await store.push(events, to: "shop", base: nil, by: "ana", at: "t1")
        try await store.setTarget(events[0].id, environment: "prod", of: "shop", by: "root", at: "t2")
        await assertEqual(try await store.rollout(of: "shop", environment: "prod"), nil)
        let r = Rollout(environment: "prod", from: events[0].id, to: events[1].id, percents: [50, 100], waves: [["a"], ["b"]],
                        maxFailures: 0, soakSeconds: 0, startedBy: "root", at: "t3")
        let note = AuditNote("promote", by: "root", at: "t3", .object(["revision": .string(events[1].id)]))
        await assertEqual(try await store.saveRollout(r, of: "shop", expected: 1, target: events[1].id, note: note), false, "no rollout at version 1")
        await assertEqual(try await store.saveRollout(r, of: "shop", expected: nil, target: events[1].id, note: note), true)
        await assertEqual(try await store.rollout(of: "shop", environment: "prod"), StoredRollout(rollout: r, version: 1))
        await assertEqual(try await store.targets(of: "shop").map(\.revision), [events[1].id], "the target set with it")
        var halted = r
        halted.state = .halted
        let halt = AuditNote("rollout-halt", by: "registry", at: "t4", .object([:]))
        await assertEqual(try await store.saveRollout(halted, of: "shop", expected: nil, target: nil, note: halt), false, "a stale writer loses")
        await assertEqual(try await store.saveRollout(halted, of: "shop", expected: 1, target: nil, note: halt), true)
        await assertThrows(try await store.saveRollout(halted, of: "shop", expected: 2, target: String(repeating: "e", count: 64), note: halt))
        await assertEqual(try await store.rollout(of: "shop", environment: "prod")?.version, 2, "an unknown target writes nothing")
        try await store.record([Report(node: "a", database: "app.db", revision: events[0].id, direction: nil, at: "t5", environment: "prod",
                                       failure: "database.drifted: database app.db has drifted")], of: "shop", by: "ana", at: "t5")
        await assertEqual(try await store.reports(of: "shop").map(\.report.failure), ["database.drifted: database app.db has drifted"])
        await assertEqual(try await store.audit(of: "shop").map(\.action).suffix(3), ["promote", "rollout-halt", "report"])
    }
}

final class SQLiteRegistryStoreTests: XCTestCase {
    var dirs: [URL] = []
    var contract: RegistryStoreContract {
        RegistryStoreContract {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-reg-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            self.dirs.append(dir)
            return try SQLiteRegistryStore(path: dir.appendingPathComponent("r.db").path)
        }
    }
    override func tearDown() { for d in dirs { try? FileManager.default.removeItem(at: d) } }

    func testPushIsCompareAndSwapAndAllOrNothing() async throws { try await contract.pushIsCompareAndSwapAndAllOrNothing() }
    func testPullIsIncrementalAndPaged() async throws { try await contract.pullIsIncrementalAndPaged() }
    func testProjectsAreSeparateLogs() async throws { try await contract.projectsAreSeparateLogs() }
    func testTargetsReportsAndAudit() async throws { try await contract.targetsReportsAndAudit() }
    func testSignaturesAreKeptBesideTheEvents() async throws { try await contract.signaturesAreKeptBesideTheEvents() }
    func testRolloutsAreComparedAndSwapped() async throws { try await contract.rolloutsAreComparedAndSwapped() }
}

final class MemoryRegistryStoreTests: XCTestCase {
    let contract = RegistryStoreContract { MemoryRegistryStore() }

    func testPushIsCompareAndSwapAndAllOrNothing() async throws { try await contract.pushIsCompareAndSwapAndAllOrNothing() }
    func testPullIsIncrementalAndPaged() async throws { try await contract.pullIsIncrementalAndPaged() }
    func testProjectsAreSeparateLogs() async throws { try await contract.projectsAreSeparateLogs() }
    func testTargetsReportsAndAudit() async throws { try await contract.targetsReportsAndAudit() }
    func testSignaturesAreKeptBesideTheEvents() async throws { try await contract.signaturesAreKeptBesideTheEvents() }
    func testRolloutsAreComparedAndSwapped() async throws { try await contract.rolloutsAreComparedAndSwapped() }
}

/// The same contract on a real PostgreSQL server (ops/test starts one and
/// sets STRATA_TEST_POSTGRES); each test gets a database of its own.
final class PostgresRegistryStoreTests: XCTestCase {
    var databases: [PostgresTestDatabase] = []
    var contract: RegistryStoreContract {
        RegistryStoreContract {
            let db = try await PostgresTestDatabase.create()
            self.databases.append(db)
            return try await PostgresRegistryStore(url: db.url)
        }
    }
    override func tearDown() async throws { for d in databases { try await d.drop() } }

    func testPushIsCompareAndSwapAndAllOrNothing() async throws { try await contract.pushIsCompareAndSwapAndAllOrNothing() }
    func testPullIsIncrementalAndPaged() async throws { try await contract.pullIsIncrementalAndPaged() }
    func testProjectsAreSeparateLogs() async throws { try await contract.projectsAreSeparateLogs() }
    func testTargetsReportsAndAudit() async throws { try await contract.targetsReportsAndAudit() }
    func testSignaturesAreKeptBesideTheEvents() async throws { try await contract.signaturesAreKeptBesideTheEvents() }
    func testRolloutsAreComparedAndSwapped() async throws { try await contract.rolloutsAreComparedAndSwapped() }
}

/// What only the PostgreSQL store promises: several stores (as in several
/// registry processes) on one database, a versioned schema, append-only
/// tables enforced by PostgreSQL itself, and 503 when it cannot be reached.
final class PostgresStoreSharingTests: XCTestCase {
    var databases: [PostgresTestDatabase] = []
    override func tearDown() async throws { for d in databases { try await d.drop() } }

    func database() async throws -> PostgresTestDatabase {
        let db = try await PostgresTestDatabase.create()
        databases.append(db)
        return db
    }

    func testTwoStoresOnOneDatabaseNeverBothAppendOnOneHead() async throws {
        let db = try await database()
        let one = try await PostgresRegistryStore(url: db.url), two = try await PostgresRegistryStore(url: db.url)
        try await one.createProject("shop", by: "admin", at: "t0")
        await assertThrows(try await two.createProject("shop", by: "admin", at: "t0")) { XCTAssertEqual($0 as? RegistryError, .projectExists("shop")) }
        var head: String?
        for round in 0..<8 {
            // Both build on the same head at once: one wins, the other learns the new head.
            let a = RegistryStoreContract.chain(2, from: head, tag: "a\(round)"), b = RegistryStoreContract.chain(3, from: head, tag: "b\(round)")
            let base = head
            async let first = Result(catching: { try await one.push(a, to: "shop", base: base, by: "ana", at: "t") })
            async let second = Result(catching: { try await two.push(b, to: "shop", base: base, by: "bo", at: "t") })
            let results = await [first, second]
            let won = results.compactMap { try? $0.get() }
            XCTAssertEqual(won.count, 1, "round \(round): exactly one push wins")
            let winner = try XCTUnwrap(won.first)
            XCTAssertTrue(winner == a.last!.id || winner == b.last!.id)
            for case .failure(let error) in results { XCTAssertEqual(error as? RegistryError, .conflict(head: winner)) }
            head = winner
        }
        // Each store's copy of the log catches up with the other's pushes.
        let more = RegistryStoreContract.chain(2, from: head, tag: "z")
        head = try await two.push(Array(more.prefix(1)), to: "shop", base: head, by: "bo", at: "t")
        head = try await one.push(Array(more.suffix(1)), to: "shop", base: head, by: "ana", at: "t")
        let all = try await one.events(of: "shop", after: nil, limit: 1000).events.map(\.event.id)
        await assertEqual(try await two.count(of: "shop"), all.count)
        XCTAssertEqual(Set(all).count, all.count, "nothing duplicated")
        XCTAssertEqual(all.last, head)
        await assertEqual(try await two.audit(of: "shop").filter { $0.action == "push" }.count, 10, "one audit entry per accepted push")
        one.close(); two.close()
    }

    func testTheEventsAndTheAuditTrailAreAppendOnly() async throws {
        let db = try await database()
        let store = try await PostgresRegistryStore(url: db.url)
        try await store.createProject("shop", by: "admin", at: "t0")
        _ = try await store.push(RegistryStoreContract.chain(2), to: "shop", base: nil, by: "ana", at: "t1")
        for sql in ["UPDATE audit SET identity = 'mallory'", "DELETE FROM audit", "TRUNCATE audit CASCADE",
                    "UPDATE events SET pushed_by = 'mallory'", "DELETE FROM events", "TRUNCATE events CASCADE"] {
            do {
                try await PostgresTestDatabase.admin(db.url, sql)
                XCTFail("\(sql) was allowed")
            } catch {
                XCTAssertTrue(String(reflecting: error).contains("append-only"), "\(sql): \(String(reflecting: error))")
            }
        }
        await assertEqual(try await store.audit(of: "shop").map(\.identity), ["admin", "ana"])
        await assertEqual(try await store.count(of: "shop"), 2)
        store.close()
    }

    func testTheSchemaIsVersionedAndANewerOneIsRefused() async throws {
        let db = try await database()
        try await PostgresRegistryStore(url: db.url).close()
        try await PostgresRegistryStore(url: db.url).close() // a second start changes nothing
        try await PostgresTestDatabase.admin(db.url, "INSERT INTO strata_store_version (version) VALUES (99)")
        await assertThrows(try await PostgresRegistryStore(url: db.url)) {
            XCTAssertEqual("\($0)", "the PostgreSQL store is at version 99; this strata-registry knows up to 2: upgrade strata")
        }
    }

    func testAStoreThatCannotReachPostgreSQLIsUnavailable() async throws {
        // A port nothing listens on: connecting is refused, as while PostgreSQL restarts.
        let port = try await PostgresTestDatabase.closedPort()
        let started = ContinuousClock.now
        await assertThrows(try await PostgresRegistryStore(url: "postgres://strata:pw@127.0.0.1:\(port)/strata?sslmode=disable", connectTimeout: .milliseconds(300))) {
            guard case .unavailable = $0 as? RegistryError else { return XCTFail("\($0)") }
            XCTAssertTrue("\($0)".hasPrefix("the registry's store is unavailable: "), "\($0)")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(60), "answers instead of waiting for the pool's circuit breaker")
    }

    /// A store that cannot be used says why when the registry starts.
    func testAStoreThatRefusesTheConnectionSaysWhy() async throws {
        let db = try await database()
        let server = try XCTUnwrap(URLComponents(string: db.url))
        let address = "\(server.host!):\(server.port!)"
        func url(user: String = server.user!, database: String, mode: String = "disable") -> String {
            "postgres://\(user)@\(address)/\(database)?sslmode=\(mode)"
        }
        await assertThrows(try await PostgresRegistryStore(url: url(database: "no_such_db"))) {
            XCTAssertEqual("\($0)", "PostgreSQL at \(address) has no database no_such_db: create it first (createdb -O \(server.user!) no_such_db)")
        }
        await assertThrows(try await PostgresRegistryStore(url: url(user: "no_such_role", database: "strata"))) {
            XCTAssertEqual("\($0)", "PostgreSQL at \(address) refused user no_such_role: role \"no_such_role\" does not exist; check the user and password in the URL")
        }
        // The test server runs without TLS.
        await assertThrows(try await PostgresRegistryStore(url: url(database: "strata", mode: "require"))) {
            XCTAssertEqual("\($0)", "PostgreSQL at \(address) does not offer TLS, and \(url(database: "strata", mode: "require")) says sslmode=require; turn ssl on in the server, or use sslmode=prefer")
        }
        // prefer falls back to a plain connection.
        try await PostgresRegistryStore(url: url(database: String(server.path.dropFirst()), mode: "prefer")).close()
    }

    func testTheURLIsCheckedAndItsPasswordNeverShown() async throws {
        await assertThrows(try await openRegistryStore("postgres://127.0.0.1/strata")) {
            XCTAssertEqual("\($0)", "postgres://127.0.0.1/strata is not a PostgreSQL URL; write postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        await assertThrows(try await openRegistryStore("postgres://u:secret@127.0.0.1/db?sslmode=maybe")) {
            XCTAssertEqual("\($0)", "sslmode=maybe is not known; use disable, prefer or require")
        }
        await assertThrows(try await openRegistryStore("mysql://u@h/db")) {
            XCTAssertEqual("\($0)", "--store mysql://u@h/db is neither a SQLite file nor a postgres:// URL")
        }
    }
}

extension Result where Failure == Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
