import Foundation
import StrataCore
import StrataRegistry
import StrataTestSupport
import StrataWire
import XCTest

/// One contract, run against both registry stores. (Explicit test methods
/// call it: Linux's test discovery skips inherited tests.)
struct RegistryStoreContract {
    let make: () throws -> RegistryStore

    static func chain(_ n: Int, from parent: String? = nil, tag: String = "t") -> [Event] { eventChain(n, from: parent, tag: tag) }

    func pushIsCompareAndSwapAndAllOrNothing() throws {
        let store = try make()
        try store.createProject("shop", by: "admin", at: "t0")
        XCTAssertThrowsError(try store.push([], to: "nope", base: nil, by: "a", at: "t")) { XCTAssertEqual($0 as? RegistryError, .unknownProject("nope")) }
        let first = RegistryStoreContract.chain(3)
        XCTAssertEqual(try store.push(first, to: "shop", base: nil, by: "ana", at: "t1"), first[2].id)
        // Stale base: refused with the head, nothing written.
        let other = RegistryStoreContract.chain(1, from: first[0].id, tag: "x")
        XCTAssertThrowsError(try store.push(other, to: "shop", base: first[0].id, by: "bo", at: "t2")) {
            XCTAssertEqual($0 as? RegistryError, .conflict(head: first[2].id))
        }
        // A batch whose last event does not apply is refused whole.
        var batch = RegistryStoreContract.chain(2, from: first[2].id, tag: "y")
        batch.append(Event(parents: [batch[1].id], author: "a", timestamp: 9, message: "dup",
                           ops: [.createTable(Table(name: "t0", columns: [Column(name: "id")]), indexes: [], triggers: [])]))
        XCTAssertThrowsError(try store.push(batch, to: "shop", base: first[2].id, by: "bo", at: "t3")) {
            XCTAssertTrue("\($0)".contains("the name is taken"), "\($0)")
        }
        // Events that leave two heads are refused.
        XCTAssertThrowsError(try store.push(other, to: "shop", base: first[2].id, by: "bo", at: "t3")) {
            XCTAssertTrue("\($0)".contains("do not extend the registry's head"), "\($0)")
        }
        XCTAssertEqual(try store.count(of: "shop"), 3)
        XCTAssertEqual(try store.audit(of: "shop").map(\.action), ["create-project", "push"])
    }

    func projectsAreSeparateLogs() throws {
        let store = try make()
        try store.createProject("a", by: "admin", at: "t0")
        try store.createProject("b", by: "admin", at: "t0")
        XCTAssertThrowsError(try store.createProject("a", by: "admin", at: "t0")) { XCTAssertEqual($0 as? RegistryError, .projectExists("a")) }
        let events = RegistryStoreContract.chain(3)
        _ = try store.push(events, to: "a", base: nil, by: "ana", at: "t1")
        XCTAssertEqual(try store.count(of: "b"), 0)
        XCTAssertNil(try store.head(of: "b"))
        // The same events can start another project's log independently.
        XCTAssertEqual(try store.push(Array(events.prefix(1)), to: "b", base: nil, by: "bo", at: "t2"), events[0].id)
        XCTAssertEqual(try store.head(of: "a"), events[2].id)
        XCTAssertEqual(try store.events(of: "b", after: nil, limit: 10).events.map(\.pushedBy), ["bo"])
        XCTAssertEqual(try store.audit(of: "b").map(\.action), ["create-project", "push"])
    }

    func pullIsIncrementalAndPaged() throws {
        let store = try make()
        try store.createProject("shop", by: "admin", at: "t0")
        let events = RegistryStoreContract.chain(25)
        _ = try store.push(events, to: "shop", base: nil, by: "ana", at: "t1")
        var after: String?
        var seen: [String] = []
        while true {
            let page = try store.events(of: "shop", after: after, limit: 10)
            seen += page.events.map(\.event.id)
            XCTAssertTrue(page.events.allSatisfy { $0.pushedBy == "ana" && $0.pushedAt == "t1" })
            after = page.events.last?.event.id
            if !page.more { break }
        }
        XCTAssertEqual(seen, events.map(\.id))
        XCTAssertEqual(try store.events(of: "shop", after: events[24].id, limit: 10).events.count, 0)
        XCTAssertThrowsError(try store.events(of: "shop", after: String(repeating: "f", count: 64), limit: 10))
    }

    func targetsReportsAndAudit() throws {
        let store = try make()
        try store.createProject("shop", by: "admin", at: "t0")
        let events = RegistryStoreContract.chain(2)
        _ = try store.push(events, to: "shop", base: nil, by: "ana", at: "t1")
        XCTAssertThrowsError(try store.setTarget(String(repeating: "e", count: 64), environment: "prod", of: "shop", by: "root", at: "t2"))
        try store.setTarget(events[0].id, environment: "prod", of: "shop", by: "root", at: "t2")
        try store.record([Report(node: "n1", database: "app.db", revision: events[0].id, direction: .up, at: "t3", environment: "prod")], of: "shop", by: "ana", at: "t3")
        try store.record([Report(node: "n1", database: "app.db", revision: events[1].id, direction: .up, at: "t4", environment: "prod")], of: "shop", by: "ana", at: "t4")
        XCTAssertEqual(try store.targets(of: "shop").map(\.revision), [events[0].id])
        XCTAssertEqual(try store.reports(of: "shop").map(\.report.revision), [events[1].id], "the latest report per database")
        XCTAssertEqual(try store.audit(of: "shop").map { "\($0.identity):\($0.action)" },
                       ["admin:create-project", "ana:push", "root:promote", "ana:report", "ana:report"])
    }
}

final class SQLiteRegistryStoreTests: XCTestCase {
    var dirs: [URL] = []
    lazy var contract = RegistryStoreContract {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-reg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        self.dirs.append(dir)
        return try SQLiteRegistryStore(path: dir.appendingPathComponent("r.db").path)
    }
    override func tearDown() { for d in dirs { try? FileManager.default.removeItem(at: d) } }

    func testPushIsCompareAndSwapAndAllOrNothing() throws { try contract.pushIsCompareAndSwapAndAllOrNothing() }
    func testPullIsIncrementalAndPaged() throws { try contract.pullIsIncrementalAndPaged() }
    func testProjectsAreSeparateLogs() throws { try contract.projectsAreSeparateLogs() }
    func testTargetsReportsAndAudit() throws { try contract.targetsReportsAndAudit() }
}

final class MemoryRegistryStoreTests: XCTestCase {
    let contract = RegistryStoreContract { MemoryRegistryStore() }

    func testPushIsCompareAndSwapAndAllOrNothing() throws { try contract.pushIsCompareAndSwapAndAllOrNothing() }
    func testPullIsIncrementalAndPaged() throws { try contract.pullIsIncrementalAndPaged() }
    func testProjectsAreSeparateLogs() throws { try contract.projectsAreSeparateLogs() }
    func testTargetsReportsAndAudit() throws { try contract.targetsReportsAndAudit() }
}
