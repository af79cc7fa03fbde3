import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StrataCore
@testable import StrataRegistry
import StrataSync
import StrataWire
import XCTest

/// What the registry refuses (400, nothing written) and what it takes, over
/// HTTP against an in-process server: every field of a report, names in
/// paths, the `limit` and `after` of a pull, any valid JSON in a body, and
/// 405 for a method a route does not declare.
final class InputValidationTests: XCTestCase {
    struct Server {
        let registry: InProcessRegistry
        let store: SQLiteRegistryStore
        let file: String
        var port: Int { registry.port }

        func send(_ method: String, _ path: String, _ body: JSON? = nil, raw: [UInt8]? = nil) async throws -> (status: Int, json: JSON?) {
            let r = try await registry.send(method, path, token: "r00t", body: raw ?? body?.canonicalBytes)
            return (r.status, try? JSON.parse(r.body, allowingFractions: true))
        }

        func stop() async throws {
            try await registry.stop()
            try? FileManager.default.removeItem(atPath: file)
        }
    }

    /// A registry on a store in a file that `store`, a second connection, reads.
    static func start() async throws -> Server {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("validation-\(UUID().uuidString).db").path
        let store = try SQLiteRegistryStore(path: file)
        try await store.createProject("shop", by: "test", at: "t0")
        let registry = try await InProcessRegistry.start(RegistryService(store: try SQLiteRegistryStore(path: file),
                                                                         tokens: try TokenTable(text: "root admin r00t\n", source: "test")))
        return Server(registry: registry, store: store, file: file)
    }

    static let good: [String: JSON] = ["node": "n1", "database": "app.db", "revision": "base", "direction": "up", "at": "2026-01-01T00:00:00.000Z"]

    func testEveryFieldOfAReportIsCheckedAndABadOneWritesNothing() async throws {
        let server = try await Self.start()
        let id = String(repeating: "ab", count: 32)
        let refused: [(String, JSON, String)] = [
            ("direction", "AAA", "report: \"direction\" must be up, down or none"),
            ("node", "", "report: node name \"\" is not allowed: use 1 to 64 letters, digits, '.', '_' or '-'"),
            ("node", "a b", "report: node name \"a b\" is not allowed: use 1 to 64 letters, digits, '.', '_' or '-'"),
            ("database", "", "report: \"database\" must be a path of 1 to 4096 bytes without control characters"),
            ("database", "app\u{1}.db", "report: \"database\" must be a path of 1 to 4096 bytes without control characters"),
            ("revision", "", "report: \"revision\" must be base or an event id (64 lowercase hex digits)"),
            ("revision", .string(id.uppercased()), "report: \"revision\" must be base or an event id (64 lowercase hex digits)"),
            ("at", "yesterday", "report: \"at\" must be a time as YYYY-MM-DDTHH:MM:SS.mmmZ"),
            ("environment", "prod\n", "report: environment name \"prod\\u{a}\" is not allowed: use 1 to 64 letters, digits, '.', '_' or '-'"),
        ]
        for (field, value, message) in refused {
            var report = Self.good
            report[field] = value
            let r = try await server.send("POST", "/v1/projects/shop/reports", .object(report))
            XCTAssertEqual(r.status, 400, field)
            XCTAssertEqual(r.json?["error"]?.stringValue, message, field)
            XCTAssertEqual(r.json?["code"]?.stringValue, "request.invalid", field)
            // In a batch, one bad report refuses the batch: nothing written.
            let batch = try await server.send("POST", "/v1/projects/shop/reports", .object(["reports": .array([.object(Self.good), .object(report)])]))
            XCTAssertEqual(batch.status, 400, field)
            XCTAssertEqual(batch.json?["error"]?.stringValue, "reports[1]: " + message, field)
        }
        await assertEqual(try await server.store.reports(of: "shop").count, 0, "nothing written")
        // A well-formed revision the registry does not have (unpublished work) is taken and shown.
        var unpublished = Self.good
        unpublished["revision"] = .string(id)
        let taken = try await server.send("POST", "/v1/projects/shop/reports", .object(unpublished))
        XCTAssertEqual(taken.status, 200)
        await assertEqual(try await server.store.reports(of: "shop").map(\.report.revision), [id])
        try await server.stop()
    }

    func testNamesInPathsLimitAndAfterAreChecked() async throws {
        let server = try await Self.start()
        for bad in ["a%20b", "%01x", String(repeating: "x", count: 65), "caf%C3%A9"] {
            let put = try await server.send("PUT", "/v1/projects/\(bad)", .object([:]))
            XCTAssertEqual(put.status, 400, bad)
            XCTAssertEqual(put.json?["code"]?.stringValue, "request.invalid", bad)
            let get = try await server.send("GET", "/v1/projects/\(bad)/fleet")
            XCTAssertEqual(get.status, 400, bad)
        }
        await assertEqual(try await server.store.hasProject("a b"), false, "no project created")
        let env = try await server.send("PUT", "/v1/projects/shop/environments/pr%0Ad", .object(["revision": .string(String(repeating: "0", count: 64))]))
        XCTAssertEqual(env.status, 400)
        XCTAssertEqual(env.json?["error"]?.stringValue, "environment name \"pr%0Ad\" is not allowed: use 1 to 64 letters, digits, '.', '_' or '-'")
        for query in ["limit=abc", "limit=0", "limit=5001", "limit=1.5", "after=xyz"] {
            let r = try await server.send("GET", "/v1/projects/shop/events?\(query)")
            XCTAssertEqual(r.status, 400, query)
        }
        let fine = try await server.send("GET", "/v1/projects/shop/events?limit=5")
        XCTAssertEqual(fine.status, 200)
        try await server.stop()
    }

    func testAnyValidJSONIsReadButNoFractionGetsIntoAnEvent() async throws {
        let server = try await Self.start()
        // A fraction in a field the registry does not read.
        let r = try await server.send("POST", "/v1/projects/shop/reports", raw: Array(#"{"at":"2026-01-01T00:00:00.000Z","database":"app.db","direction":"up","node":"n1","revision":"base","weight":1.5e3}"#.utf8))
        XCTAssertEqual(r.status, 200)
        // A fraction inside an event is refused, and the log stays empty.
        let event = RegistryStoreContract.chain(1)[0]
        guard case .object(var fields) = event.jsonWithID else { return XCTFail() }
        fields["format"] = .fraction("1.0")
        let push = try await server.send("POST", "/v1/projects/shop/events", .object(["base": .null, "events": .array([.object(fields)])]))
        XCTAssertEqual(push.status, 400)
        await assertEqual(try await server.store.count(of: "shop"), 0)
        try await server.stop()
    }

    /// (The `Allow` header carries the same list; the test transport does not read headers.)
    func testAMethodARouteDoesNotDeclareIs405WithTheOnesItDoes() async throws {
        let server = try await Self.start()
        let cases: [(String, String, String)] = [
            ("DELETE", "/v1/projects/shop/events", "GET, POST"), ("PUT", "/v1/projects/shop/fleet", "GET"),
            ("GET", "/v1/projects/shop", "PUT"), ("PATCH", "/v1/projects/shop/environments/prod", "GET, PUT"),
            ("GET", "/v1/projects/shop/reports", "POST"), ("POST", "/v1/health", "GET"),
        ]
        for (method, path, allow) in cases {
            let r = try await server.send(method, path)
            XCTAssertEqual(r.status, 405, "\(method) \(path)")
            XCTAssertEqual(r.json?["error"]?.stringValue, "\(method) is not allowed here; use \(allow)", "\(method) \(path)")
            XCTAssertEqual(r.json?["code"]?.stringValue, "request.method_not_allowed", "\(method) \(path)")
        }
        try await server.stop()
    }
}

/// `GET /metrics`: Prometheus text with requests by route pattern, method
/// and status, push conflicts, events stored and the pull latency histogram.
final class MetricsTests: XCTestCase {
    func testMetricsCountRequestsConflictsEventsAndPulls() async throws {
        let server = try await InputValidationTests.start()
        let events = RegistryStoreContract.chain(3)
        func push(_ batch: [Event], base: String?) async throws -> Int {
            try await server.send("POST", "/v1/projects/shop/events",
                                  .object(["base": base.map(JSON.string) ?? .null, "events": .array(batch.map(\.jsonWithID))])).status
        }
        let first = try await push(Array(events[0..<2]), base: nil)
        XCTAssertEqual(first, 200)
        let stale = try await push([events[2]], base: nil)
        XCTAssertEqual(stale, 409, "pushed on a head that moved")
        let pull = try await server.send("GET", "/v1/projects/shop/events?limit=10")
        XCTAssertEqual(pull.status, 200)
        let r = try await ThreadedTransport().send(StrataSync.HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/metrics"))
        XCTAssertEqual(r.status, 200, "no token needed")
        let lines = Set(String(decoding: r.body, as: UTF8.self).split(separator: "\n").map(String.init))
        for expected in [
            #"strata_registry_requests_total{route="/v1/projects/{project}/events",method="POST",status="200"} 1"#,
            #"strata_registry_requests_total{route="/v1/projects/{project}/events",method="POST",status="409"} 1"#,
            #"strata_registry_requests_total{route="/v1/projects/{project}/events",method="GET",status="200"} 1"#,
            "strata_registry_push_conflicts_total 1",
            "strata_registry_events_stored_total 2",
            "strata_registry_pull_duration_seconds_count 1",
        ] {
            XCTAssertTrue(lines.contains(expected), "missing \(expected) in\n\(lines.sorted().joined(separator: "\n"))")
        }
        try await server.stop()
    }
}

/// Names that would be path segments or that reorder text are refused.
final class NamesTests: XCTestCase {
    func testDotsAndBidiOverridesAreNotNames() {
        for bad in [".", "..", "", "a/b", "shop\u{202E}"] { XCTAssertFalse(Names.isValid(bad), bad) }
        for good in ["shop", "...", ".shop", "shop-2.v1"] { XCTAssertTrue(Names.isValid(good), good) }
        XCTAssertThrowsError(try Names.check("..", "project")) {
            XCTAssertEqual("\($0)", "project name \"..\" is not allowed: use 1 to 64 letters, digits, '.', '_' or '-'")
        }
        XCTAssertFalse(Names.isPrintable("tenants/\u{202E}bd.a"))
        XCTAssertEqual(Names.visible("a\u{202E}b\nc\u{1}"), "a\\u{202e}b\nc\\u{1}")
    }
}

/// A full disk is the registry's state, not bad input: 507 with its own
/// code and a Retry-After, nothing written, and the CLI exits 4.
final class FullDiskTests: XCTestCase {
    func testAPushToAFullStoreIs507AndWritesNothing() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteRegistryStore(path: dir.appendingPathComponent("r.db").path)
        try await store.createProject("shop", by: "test", at: "t0")
        // SQLite's own size limit: the file cannot grow past what it has, so
        // the next write fails with SQLITE_FULL as on a full disk.
        try await store.onEventConnection("shop") { db in
            let pages = try db.scalar("PRAGMA page_count")?.int ?? 0
            _ = try db.scalar("PRAGMA max_page_count = \(pages)")
        }
        let tokens = try TokenTable(text: "ana push s3cret\n", source: "test")
        let registry = try await InProcessRegistry.start(RegistryService(store: store, tokens: tokens))
        let e = Event(parents: [], author: "a", timestamp: 1, message: String(repeating: "x", count: 20_000),
                      ops: [.createTable(Table(name: "t", columns: [Column(name: "id", type: "INTEGER")]), indexes: [], triggers: [])])
        let body = JSON.object(["base": .null, "events": .array([e.jsonWithID])]).canonicalBytes
        let r = try await registry.send("POST", "/v1/projects/shop/events", token: "s3cret", body: body)
        let text = String(decoding: r.body, as: UTF8.self)
        XCTAssertEqual(r.status, 507, text)
        XCTAssertTrue(text.contains(#""code":"store.full""#), text)
        XCTAssertTrue(text.contains("the registry's disk is full"), text)
        let head = try await store.head(of: "shop")
        XCTAssertNil(head, "nothing was written")
        try await registry.stop()
    }
}
