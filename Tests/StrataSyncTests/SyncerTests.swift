import Foundation
import StrataLog
import StrataCore
import StrataStore
import StrataSync
import StrataWire
import XCTest

/// The syncer on a memory log, against a scripted transport: every request
/// it sends is recorded and answered from the script, so the exchange
/// itself (cursors, bases, rebases, receipts, the outbox) is checked
/// exactly, with no process, socket or file.
final class SyncerTests: XCTestCase {
    /// Answers requests in order; each step checks the request's method and
    /// path (query included) before answering.
    final class ScriptedTransport: Transport {
        struct Step {
            let method: String
            let path: String
            let answer: Result<HTTPResponse, TransportError>
        }
        var script: [Step]
        var sent: [HTTPRequest] = []
        init(_ script: [Step]) { self.script = script }

        func send(_ request: HTTPRequest) throws -> HTTPResponse {
            sent.append(request)
            guard !script.isEmpty else { throw TransportError(code: 0, message: "unscripted request \(request.method) \(request.url)") }
            let step = script.removeFirst()
            let path = String(request.url.dropFirst(base.count))
            guard step.method == request.method, step.path == path else {
                throw TransportError(code: 0, message: "expected \(step.method) \(step.path), got \(request.method) \(path)")
            }
            return try step.answer.get()
        }

        /// The JSON bodies sent, in order.
        var bodies: [JSON] { sent.compactMap { $0.body.flatMap { try? JSON.parse($0) } } }
    }

    static let base = "http://registry.test/v1/projects/shop"
    static let time = "2026-11-29T00:00:00.000Z"

    static func ok(_ method: String, _ path: String, _ body: JSON) -> ScriptedTransport.Step {
        .init(method: method, path: path, answer: .success(HTTPResponse(status: 200, body: body.canonicalBytes)))
    }

    static func status(_ method: String, _ path: String, _ code: Int, _ body: JSON) -> ScriptedTransport.Step {
        .init(method: method, path: path, answer: .success(HTTPResponse(status: code, body: body.canonicalBytes)))
    }

    static func unreachable(_ method: String, _ path: String) -> ScriptedTransport.Step {
        .init(method: method, path: path, answer: .failure(TransportError(code: 7, message: "Couldn't connect to server")))
    }

    func event(_ name: String, after parent: String?, by author: String = "ana", at time: Int64 = 0) -> Event {
        Event(parents: parent.map { [$0] } ?? [], author: author, timestamp: time, message: name,
              ops: [.createTable(Table(name: name, columns: [Column(name: "id", type: "INTEGER")]), indexes: [], triggers: [])])
    }

    func make(_ script: [ScriptedTransport.Step], observer: any SyncObserver = QuietObserver()) -> (Syncer, MemoryEventLog, ScriptedTransport) {
        let log = MemoryEventLog()
        let config = Config(project: "shop", node: "n1", author: "ana@example.com", models: "models.sql", databases: ["app.db"],
                            registry: "http://registry.test")
        let project = Project(root: URL(fileURLWithPath: "/nonexistent"), config: config, log: log)
        let transport = ScriptedTransport(script)
        let client = RegistryClient(baseURL: "http://registry.test", project: "shop", token: "t", transport: transport)
        client.backoff = []
        return (Syncer(project: project, client: client, observer: observer), log, transport)
    }

    /// `log` holds `published` as acknowledged by the registry (its last
    /// one the registry head last seen), then `local` unpushed.
    func seed(_ log: MemoryEventLog, published: [Event], local: [Event] = []) throws {
        try log.append(published + local, expectedHeads: [])
        try log.markPushed(published.map { ($0.id, "bo", Self.time) })
        try log.setMeta("remote_head", published.last?.id)
    }

    func page(_ events: [Event], more: Bool, head: String?, by: String = "bo") -> JSON {
        EventsPage(events: events.map { PushedEvent(event: $0, pushedBy: by, pushedAt: Self.time) }, more: more, head: head).json
    }

    func testAPullPagesFromItsCursorAndRecordsWhoPushed() throws {
        let a = event("a", after: nil), b = event("b", after: a.id), c = event("c", after: b.id)
        let (syncer, log, transport) = make([
            Self.ok("GET", "/events?limit=1000", page([a, b], more: true, head: c.id)),
            Self.ok("GET", "/events?limit=1000&after=\(b.id)", page([c], more: false, head: c.id)),
        ])
        XCTAssertEqual(try syncer.pull(), 3)
        XCTAssertEqual(try log.allEvents().map(\.id), [a.id, b.id, c.id])
        XCTAssertEqual(try log.pushedInfo().mapValues { "\($0.by) \($0.at)" }, [a.id: "bo \(Self.time)", b.id: "bo \(Self.time)", c.id: "bo \(Self.time)"])
        XCTAssertEqual(try syncer.remoteHead, c.id)
        XCTAssertEqual(transport.script.count, 0)
        XCTAssertEqual(transport.sent.map { $0.headers["Authorization"] }, ["Bearer t", "Bearer t"])
    }

    /// After each page the pull says how far it is: received so far and
    /// what the registry says is left (nil from a registry that does not say).
    func testAPullReportsItsProgressPageByPage() throws {
        let a = event("a", after: nil), b = event("b", after: a.id), c = event("c", after: b.id), d = event("d", after: c.id)
        let second = page([c], more: true, head: d.id) // a registry that does not say what is left
        let first = JSON.object((page([a, b], more: true, head: d.id).objectValue ?? [:]).merging(["remaining": .int(2)]) { $1 })
        let recorder = RecordingObserver()
        let (syncer, _, _) = make([
            Self.ok("GET", "/events?limit=1000", first),
            Self.ok("GET", "/events?limit=1000&after=\(b.id)", second),
            Self.ok("GET", "/events?limit=1000&after=\(c.id)", page([d], more: false, head: d.id)),
        ], observer: recorder)
        XCTAssertEqual(try syncer.pull(), 4)
        XCTAssertEqual(recorder.seen, ["pulled 0 ?", "pulled 2 2", "pulled 3 ?", "pulled 4 0"])
    }

    func testAPullStartsOverWhenTheRegistryForgotItsCursor() throws {
        let a = event("a", after: nil)
        let (syncer, log, _) = make([
            Self.status("GET", "/events?limit=1000&after=\(a.id)", 404, ErrorBody(message: "unknown event \(a.id.prefix(12)) in project shop", code: "pull.unknown_after").json),
            Self.ok("GET", "/events?limit=1000", page([a], more: false, head: a.id)),
        ])
        try seed(log, published: [a])
        XCTAssertEqual(try syncer.pull(), 0, "nothing new, but the cursor is reset")
        XCTAssertEqual(try syncer.remoteHead, a.id)
    }

    func testAPushSendsTheUnpublishedEventsOnTheLastSeenHead() throws {
        let a = event("a", after: nil), b = event("b", after: a.id), c = event("c", after: b.id)
        let (syncer, log, transport) = make([
            Self.ok("POST", "/events", PushResponse(head: c.id, accepted: 2, pushedBy: "ana", pushedAt: Self.time).json),
        ])
        try seed(log, published: [a], local: [b, c])
        let result = try syncer.push()
        XCTAssertEqual(result.pushed, 2)
        XCTAssertEqual(transport.bodies, [PushRequest(base: a.id, events: [b, c]).json])
        XCTAssertEqual(try log.unpublished().map(\.id), [])
        XCTAssertEqual(try log.pushedInfo()[c.id]?.by, "ana")
        XCTAssertEqual(try syncer.remoteHead, c.id)
    }

    /// Many events go in several requests, each on the head the last one
    /// made; a failed request leaves the ones before it pushed.
    func testAPushOfManyEventsGoesInRequestsThatEachSayTheirProgress() throws {
        let a = event("a", after: nil), b = event("b", after: a.id), c = event("c", after: b.id), d = event("d", after: c.id)
        let x = event("x", after: nil, by: "bo")
        let recorder = RecordingObserver()
        let (syncer, log, transport) = make([
            Self.ok("POST", "/events", PushResponse(head: c.id, accepted: 2, pushedBy: "ana", pushedAt: Self.time).json),
            Self.status("POST", "/events", 409, ErrorBody(message: "the push builds on a stale head", code: "push.stale_head", head: .some(x.id)).json),
        ], observer: recorder)
        syncer.pushChunk = 2
        try seed(log, published: [a], local: [b, c, d])
        XCTAssertThrowsError(try syncer.push())
        XCTAssertEqual(transport.bodies, [PushRequest(base: a.id, events: [b, c]).json, PushRequest(base: c.id, events: [d]).json])
        XCTAssertEqual(recorder.seen, ["pushed 0 3", "pushed 2 1"])
        XCTAssertEqual(try log.unpublished().map(\.id), [d.id], "the first request's events stay pushed")
        XCTAssertEqual(try syncer.remoteHead, c.id)
    }

    /// A request ends only where the registry would have one head: a merge
    /// goes with both of its branches.
    func testPushRequestsEndOnlyWhereTheRegistryHasOneHead() {
        let a = event("a", after: nil)
        let b1 = event("b1", after: a.id), b2 = event("b2", after: b1.id), c1 = event("c1", after: a.id), c2 = event("c2", after: c1.id)
        let m = Event(parents: [b2.id, c2.id], author: "ana", timestamp: 0, message: "merge", ops: [])
        let d = event("d", after: m.id)
        let chunks = Syncer.chunks([b1, b2, c1, c2, m, d], onto: a.id, size: 2).map { $0.map(\.message) }
        XCTAssertEqual(chunks, [["b1", "b2"], ["c1", "c2", "merge"], ["d"]])
        XCTAssertEqual(Syncer.chunks([b1, b2], onto: a.id, size: 1000).map(\.count), [2])
    }

    func testAStalePushChangesNothing() throws {
        let a = event("a", after: nil), x = event("x", after: nil, by: "bo")
        let (syncer, log, _) = make([
            Self.status("POST", "/events", 409, ErrorBody(message: "the push builds on a stale head", code: "push.stale_head", head: .some(x.id)).json),
        ])
        try log.append([a], expectedHeads: [])
        XCTAssertThrowsError(try syncer.push()) { error in
            guard case SyncError.conflict(let head, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(head, x.id)
        }
        XCTAssertEqual(try log.unpublished().map(\.id), [a.id])
        XCTAssertNil(try syncer.remoteHead)
    }

    /// Local work on the old head is re-parented onto the registry's new
    /// head (re-hashed: nobody saw it) and pushed on that head.
    func testSyncRebasesUnpublishedWorkOntoTheRegistrysHead() throws {
        let a = event("a", after: nil)
        let mine = event("mine", after: a.id, at: 5)
        let theirs = event("theirs", after: a.id, by: "bo", at: 3)
        let rebased = Event(parents: [theirs.id], author: mine.author, timestamp: mine.timestamp, message: mine.message, ops: mine.ops)
        let (syncer, log, transport) = make([
            Self.ok("GET", "/events?limit=1000&after=\(a.id)", page([theirs], more: false, head: theirs.id)),
            Self.ok("POST", "/events", PushResponse(head: rebased.id, accepted: 1, pushedBy: "ana", pushedAt: Self.time).json),
        ])
        try seed(log, published: [a], local: [mine])
        let r = try syncer.sync(now: 0)
        XCTAssertEqual([r.pulled, r.rebased, r.pushed], [1, 1, 1])
        XCTAssertNil(r.merged)
        XCTAssertEqual(r.remoteHead, rebased.id)
        XCTAssertEqual(transport.bodies.last, PushRequest(base: theirs.id, events: [rebased]).json)
        XCTAssertEqual(try log.heads(), [rebased.id])
        XCTAssertFalse(try log.contains(mine.id), "the old local event is replaced")
    }

    /// Someone pushed between this node's pull and push: pull again, rebase
    /// again, push again.
    func testSyncRetriesALostRace() throws {
        let a = event("a", after: nil), mine = event("mine", after: a.id), theirs = event("theirs", after: a.id, by: "bo")
        let rebased = Event(parents: [theirs.id], author: mine.author, timestamp: mine.timestamp, message: mine.message, ops: mine.ops)
        let (syncer, log, transport) = make([
            Self.ok("GET", "/events?limit=1000&after=\(a.id)", page([], more: false, head: a.id)),
            Self.status("POST", "/events", 409, ErrorBody(message: "stale", code: "push.stale_head", head: .some(theirs.id)).json),
            Self.ok("GET", "/events?limit=1000&after=\(a.id)", page([theirs], more: false, head: theirs.id)),
            Self.ok("POST", "/events", PushResponse(head: rebased.id, accepted: 1, pushedBy: "ana", pushedAt: Self.time).json),
        ])
        try seed(log, published: [a], local: [mine])
        let r = try syncer.sync(now: 0)
        XCTAssertEqual([r.pulled, r.rebased, r.pushed], [1, 1, 1])
        XCTAssertEqual(transport.bodies, [PushRequest(base: a.id, events: [mine]).json, PushRequest(base: theirs.id, events: [rebased]).json])
        XCTAssertEqual(transport.script.count, 0)
    }

    /// Both sides add the same column with different types: neither a
    /// rebase nor a merge works, and nothing is pushed.
    func testDivergedWorkIsRefusedAndNothingIsPushed() throws {
        let a = event("a", after: nil)
        func add(_ type: String, after parent: String, by author: String) -> Event {
            Event(parents: [parent], author: author, timestamp: 1, message: "x \(type)",
                  ops: [.addColumn(table: "a", column: Column(name: "x", type: type), position: 1)])
        }
        let mine = add("TEXT", after: a.id, by: "ana"), theirs = add("INTEGER", after: a.id, by: "bo")
        let (syncer, log, transport) = make([Self.ok("GET", "/events?limit=1000&after=\(a.id)", page([theirs], more: false, head: theirs.id))])
        try seed(log, published: [a], local: [mine])
        XCTAssertThrowsError(try syncer.sync(now: 0)) { error in
            guard case SyncError.diverged(let local, let head, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(local, ["\(mine.id.prefix(12)) \"x TEXT\""])
            XCTAssertEqual(head, theirs.id)
        }
        XCTAssertEqual(transport.sent.map(\.method), ["GET"], "nothing was pushed")
        XCTAssertEqual(try log.unpublished().map(\.id), [mine.id])
    }

    /// A report the registry cannot take now waits in the outbox and goes,
    /// oldest first, with the next exchange that reaches it.
    func testReportsWaitInTheOutboxUntilTheRegistryIsBack() throws {
        let r1 = Report(node: "n1", database: "app.db", revision: "base", direction: .down, at: Self.time, environment: nil)
        let r2 = Report(node: "n1", database: "app.db", revision: "base", direction: nil, at: Self.time, environment: "prod")
        let (syncer, log, transport) = make([
            Self.unreachable("POST", "/reports"),
            Self.unreachable("POST", "/reports"),
            Self.ok("POST", "/reports", .object(["ok": .bool(true)])),
        ])
        XCTAssertNotNil(syncer.report(r1))
        XCTAssertEqual(try log.queued().map(\.body), [r1.json.canonicalString])
        XCTAssertNotNil(syncer.report(r2), "the queue is tried first, the registry is still away, so r2 waits behind r1")
        XCTAssertEqual(try log.queued().map(\.body), [r1.json.canonicalString, r2.json.canonicalString])
        XCTAssertEqual(syncer.flushOutbox(), 2)
        XCTAssertEqual(try log.queued().count, 0)
        XCTAssertEqual(transport.bodies, [r1.json, r1.json, Report.batchJSON([r1, r2])], "r2 is never sent before r1; queued ones go together")
    }

    /// A queued report the registry refuses as invalid (400) does not hold
    /// the others back: the page is sent again a report at a time, the
    /// refused one is dropped with a warning, the rest are delivered; and a
    /// report strata knows the registry would refuse is never sent.
    func testARefusedReportIsDroppedWithAWarningAndTheRestGoThrough() throws {
        let r1 = Report(node: "n1", database: "a.db", revision: "base", direction: .up, at: Self.time, environment: nil)
        let r2 = Report(node: "n1", database: "b.db", revision: "base", direction: .up, at: Self.time, environment: nil)
        let r3 = Report(node: "n1", database: "c.db", revision: "base", direction: .up, at: Self.time, environment: nil)
        let invalid = Report(node: "n 1", database: "d.db", revision: "base", direction: .up, at: Self.time, environment: nil)
        let refused = JSON.object(["error": "report: a newer rule refuses it", "code": "request.invalid"])
        let recorder = RecordingObserver()
        let (syncer, log, transport) = make([
            Self.unreachable("POST", "/reports"),
            Self.status("POST", "/reports", 400, refused),
            Self.ok("POST", "/reports", .object(["ok": .bool(true)])),
            Self.status("POST", "/reports", 400, refused),
            Self.ok("POST", "/reports", .object(["ok": .bool(true)])),
        ], observer: recorder)
        XCTAssertNotNil(syncer.report([r1, r2, invalid, r3]))
        XCTAssertEqual(recorder.warnings, ["the report of d.db was dropped: report: node name \"n 1\" is not allowed: use 1 to 64 letters, digits, '.', '_' or '-'"])
        XCTAssertEqual(try log.queued().count, 3, "the registry was away: the three valid reports wait")
        XCTAssertEqual(syncer.flushOutbox(), 3)
        XCTAssertEqual(recorder.warnings.last, "the registry refused the report of b.db (report: a newer rule refuses it); it was dropped")
        XCTAssertEqual(try log.queued().count, 0, "nothing left behind the refused one")
        XCTAssertEqual(transport.bodies, [Report.batchJSON([r1, r2, r3]), Report.batchJSON([r1, r2, r3]), r1.json, r2.json, r3.json])
    }
}

/// Keeps what a syncer says, for the assertions.
final class RecordingObserver: SyncObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var said: (seen: [String], warnings: [String]) = ([], [])
    var seen: [String] { lock.withLock { said.seen } }
    var warnings: [String] { lock.withLock { said.warnings } }
    func warn(_ message: String) { lock.withLock { said.warnings.append(message) } }
    func progress(_ transfer: Syncer.Transfer, done: Int, remaining: Int?) {
        lock.withLock { said.seen.append("\(transfer.rawValue) \(done) \(remaining.map(String.init) ?? "?")") }
    }
}
