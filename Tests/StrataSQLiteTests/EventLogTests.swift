import StrataLog
import StrataCore
import StrataStore
import StrataTestSupport
import XCTest

/// One suite, run against every EventLog implementation. (Explicit test
/// methods in each class call it: Linux's test discovery skips inherited tests.)
struct EventLogContract {
    let makeLog: () throws -> any SyncLog

    func chain(_ n: Int, from parent: String? = nil, tag: String = "t") -> [Event] { eventChain(n, from: parent, tag: tag) }

    /// One append that holds a chain and two branches off it: each event
    /// applies to its own parent's state (the validator keeps a state only
    /// while a later event of the batch needs it).
    func testABatchWithBranchesAppliesEachOnItsParentsState() throws {
        let log = try makeLog()
        let base = chain(3)
        let x = chain(3, from: base[2].id, tag: "x"), y = chain(2, from: base[1].id, tag: "y"), z = chain(2, from: base[2].id, tag: "z")
        try log.append(base + x + y + z, expectedHeads: [])
        XCTAssertEqual(Set(try log.heads()), [x[2].id, y[1].id, z[1].id])
        for e in base + x + y + z {
            let fold = try log.range(from: nil, to: e.id).reduce(into: Schema.empty) { s, e in try s.apply(e.ops) }
            XCTAssertEqual(try log.state(at: e.id), fold)
        }
        let more = chain(2, from: x[2].id, tag: "w")
        try log.append(more, expectedHeads: nil)
        XCTAssertEqual(try log.state(at: more[1].id), try log.range(from: nil, to: more[1].id).reduce(into: Schema.empty) { s, e in try s.apply(e.ops) })
    }

    func testAppendHeadsAndCompareAndSwap() throws {
        let log = try makeLog()
        let events = chain(5)
        try log.append(events, expectedHeads: [])
        XCTAssertEqual(try log.heads(), [events[4].id])
        XCTAssertEqual(try log.count(), 5)
        XCTAssertThrowsError(try log.append(chain(1, from: events[4].id, tag: "x"), expectedHeads: [events[3].id])) {
            XCTAssertEqual(($0 as? LogError)?.kind, .conflict)
        }
        XCTAssertEqual(try log.count(), 5, "a refused append writes nothing")
        // A branch: two heads.
        try log.append(chain(2, from: events[2].id, tag: "b"), expectedHeads: nil)
        XCTAssertEqual(try log.heads().count, 2)
        XCTAssertThrowsError(try log.head()) { XCTAssertTrue("\($0)".hasPrefix("the log has 2 heads")) }
    }

    func testAnEventThatDoesNotApplyIsRefusedWhole() throws {
        let log = try makeLog()
        let good = chain(2)
        let bad = Event(parents: [good[1].id], author: "a", timestamp: 9, message: "dup",
                        ops: [.createTable(Table(name: "t0", columns: [Column(name: "id")]), indexes: [], triggers: [])])
        XCTAssertThrowsError(try log.append(good + [bad], expectedHeads: [])) {
            XCTAssertTrue("\($0)".contains("does not apply: cannot create table t0: the name is taken"), "\($0)")
        }
        XCTAssertEqual(try log.count(), 0)
        let orphan = chain(1, from: String(repeating: "0", count: 64))
        XCTAssertThrowsError(try log.append(orphan, expectedHeads: nil)) { XCTAssertTrue("\($0)".contains("which is not in the log")) }
    }

    func testStateAtEveryRevisionEqualsTheFold() throws {
        let log = try makeLog()
        let events = chain(40)
        try log.append(events, expectedHeads: [])
        var s = Schema.empty
        for e in events {
            s = try s.applying(e.ops)
            XCTAssertEqual(try log.state(at: e.id), s)
        }
    }

    func testRevisionsResolveByUniquePrefix() throws {
        let log = try makeLog()
        let events = chain(400)
        try log.append(events, expectedHeads: [])
        XCTAssertEqual(try log.resolve(String(events[7].id.prefix(10))), events[7].id)
        XCTAssertEqual(try log.resolve("HEAD"), events.last!.id)
        XCTAssertNil(try log.resolve("base"))
        // With 400 ids, some 4-digit prefix is shared (birthday bound).
        let prefixes = Dictionary(grouping: events.map(\.id)) { String($0.prefix(4)) }
        let shared = try XCTUnwrap(prefixes.first(where: { $0.value.count > 1 })?.key, "the fixed chain has a shared 4-digit prefix")
        XCTAssertThrowsError(try log.resolve(shared)) { XCTAssertTrue("\($0)".contains("is ambiguous"), "\($0)") }
        XCTAssertThrowsError(try log.resolve("abc")) { XCTAssertTrue("\($0)".contains("4 or more hex digits")) }
    }

    func testPushedEventsAreNeverRewrittenAndUnpublishedOnesAreReplacedWhole() throws {
        let log = try makeLog()
        let events = chain(4)
        try log.append(events, expectedHeads: [])
        try log.markPushed([(id: events[0].id, by: "ana", at: "t"), (id: events[1].id, by: "ana", at: "t")])
        XCTAssertEqual(try log.unpublished().map(\.id), [events[2].id, events[3].id])
        XCTAssertThrowsError(try log.replaceUnpublished([events[1].id], with: [])) {
            XCTAssertEqual("\($0)", "event \(events[1].id.prefix(12)) was pushed to the registry and can never be rewritten")
        }
        XCTAssertThrowsError(try log.replaceUnpublished([events[2].id], with: [])) {
            XCTAssertEqual("\($0)", "event \(events[3].id.prefix(12)) builds on an event being replaced; replace it too")
        }
        // Re-parented copies of the two unpublished events (as a rebase makes them).
        let moved = chain(2, from: events[1].id, tag: "moved")
        try log.replaceUnpublished([events[2].id, events[3].id], with: moved)
        XCTAssertEqual(try log.allEvents().map(\.id), events.prefix(2).map(\.id) + moved.map(\.id))
        XCTAssertEqual(try log.heads(), [moved[1].id])
        XCTAssertEqual(try log.verify().map(\.description), [])
        // Dropped without replacement: their parent is the head again.
        try log.replaceUnpublished(moved.map(\.id), with: [])
        XCTAssertEqual(try log.heads(), [events[1].id])
        XCTAssertEqual(try log.count(), 2)
        XCTAssertEqual(try log.verify().map(\.description), [])
    }

    /// What syncing keeps beside the events: settings, receipts, the outbox.
    func testSyncBookkeeping() throws {
        let log = try makeLog()
        XCTAssertNil(try log.meta("remote_head"))
        try log.setMeta("remote_head", "abc")
        XCTAssertEqual(try log.meta("remote_head"), "abc")
        try log.setMeta("remote_head", nil)
        XCTAssertNil(try log.meta("remote_head"))

        let events = chain(3)
        try log.appendPulled(Array(events.prefix(2)), receipts: [(events[0].id, "bo", "t1"), (events[1].id, "bo", "t2")])
        try log.append([events[2]], expectedHeads: [events[1].id])
        XCTAssertEqual(try log.pushedInfo().mapValues { "\($0.by) \($0.at)" }, [events[0].id: "bo t1", events[1].id: "bo t2"])
        XCTAssertEqual(try log.unpublished().map(\.id), [events[2].id])
        XCTAssertThrowsError(try log.appendPulled(chain(1, from: String(repeating: "0", count: 64), tag: "x"), receipts: [("x", "bo", "t")]))
        XCTAssertNil(try log.pushedInfo()["x"], "a refused pull records no receipt")

        try log.enqueue(kind: "report", body: "r1")
        try log.enqueue(kind: "report", body: "r2")
        let queued = try log.queued()
        XCTAssertEqual(queued.map(\.body), ["r1", "r2"])
        try log.dequeue(queued[0].seq)
        XCTAssertEqual(try log.queued().map(\.body), ["r2"])
        XCTAssertEqual(try log.verify().map(\.description), [])
    }
}

final class SQLiteEventLogTests: XCTestCase {
    var dirs: [TempDir] = []
    var contract: EventLogContract {
        EventLogContract {
            let dir = try TempDir()
            self.dirs.append(dir)
            return try SQLiteEventLog(path: dir.path("log.db"), create: true, snapshotInterval: 8)
        }
    }

    func testAppendHeadsAndCompareAndSwap() throws { try contract.testAppendHeadsAndCompareAndSwap() }
    func testAnEventThatDoesNotApplyIsRefusedWhole() throws { try contract.testAnEventThatDoesNotApplyIsRefusedWhole() }
    func testStateAtEveryRevisionEqualsTheFold() throws { try contract.testStateAtEveryRevisionEqualsTheFold() }
    func testRevisionsResolveByUniquePrefix() throws { try contract.testRevisionsResolveByUniquePrefix() }
    func testPushedEventsAreNeverRewrittenAndUnpublishedOnesAreReplacedWhole() throws {
        try contract.testPushedEventsAreNeverRewrittenAndUnpublishedOnesAreReplacedWhole()
    }
    func testSyncBookkeeping() throws { try contract.testSyncBookkeeping() }
    func testABatchWithBranchesAppliesEachOnItsParentsState() throws { try contract.testABatchWithBranchesAppliesEachOnItsParentsState() }


    /// A log written before the edges table existed gets it on open, filled
    /// from the events, and replacing unpublished events then works.
    func testALogWithoutEdgesGetsThemOnOpen() throws {
        let dir = try TempDir()
        let events = contract.chain(3)
        do {
            let log = try SQLiteEventLog(path: dir.path("log.db"), create: true)
            try log.append(events, expectedHeads: [])
            try log.connection.execute("DROP TABLE edges")
        }
        let log = try SQLiteEventLog(path: dir.path("log.db"))
        XCTAssertEqual(try log.connection.scalar("SELECT count(*) FROM edges")?.int, 2)
        XCTAssertThrowsError(try log.replaceUnpublished([events[1].id], with: [])) {
            XCTAssertTrue("\($0)".contains("builds on an event being replaced"), "\($0)")
        }
        try log.replaceUnpublished([events[2].id], with: [])
        XCTAssertEqual(try log.heads(), [events[1].id])
    }

    func testReopenedLogKeepsEverythingAndVerifies() throws {
        let dir = try TempDir()
        let events = contract.chain(30)
        try SQLiteEventLog(path: dir.path("log.db"), create: true, snapshotInterval: 8).append(events, expectedHeads: [])
        let again = try SQLiteEventLog(path: dir.path("log.db"))
        XCTAssertEqual(try again.allEvents(), events)
        XCTAssertNotNil(try again.snapshot(at: events[7].id), "height 8 has a snapshot")
        XCTAssertEqual(try again.verify().map(\.description), [])
    }
}

final class MemoryEventLogTests: XCTestCase {
    let contract = EventLogContract { MemoryEventLog(snapshotInterval: 8) }

    func testAppendHeadsAndCompareAndSwap() throws { try contract.testAppendHeadsAndCompareAndSwap() }
    func testAnEventThatDoesNotApplyIsRefusedWhole() throws { try contract.testAnEventThatDoesNotApplyIsRefusedWhole() }
    func testStateAtEveryRevisionEqualsTheFold() throws { try contract.testStateAtEveryRevisionEqualsTheFold() }
    func testRevisionsResolveByUniquePrefix() throws { try contract.testRevisionsResolveByUniquePrefix() }
    func testPushedEventsAreNeverRewrittenAndUnpublishedOnesAreReplacedWhole() throws {
        try contract.testPushedEventsAreNeverRewrittenAndUnpublishedOnesAreReplacedWhole()
    }
    func testSyncBookkeeping() throws { try contract.testSyncBookkeeping() }
    func testABatchWithBranchesAppliesEachOnItsParentsState() throws { try contract.testABatchWithBranchesAppliesEachOnItsParentsState() }
}
