import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StrataCore
import StrataRegistry
import StrataSync
import XCTest

/// Tokens scoped to projects (`NAME ROLE SECRET PROJECT,...`): a token for
/// one project is refused (403, `auth.project`) on every route of another,
/// and nothing is written; on its own project it works as before.
final class ScopedTokenTests: XCTestCase {
    func testATokenForOneProjectIsRefusedOnEveryRouteOfAnother() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("scoped-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        // A second connection reads what the server wrote (the server's store is its own).
        let store = try SQLiteRegistryStore(path: file)
        try await store.createProject("shop", by: "test", at: "t0")
        try await store.createProject("lab", by: "test", at: "t0")
        let tokens = try TokenTable(text: "ana admin s3cret shop\nbo push b0 shop,lab\n", source: "test")
        let registry = try await InProcessRegistry.start(RegistryService(store: try SQLiteRegistryStore(path: file), tokens: tokens))
        let port = registry.port
        let transport = ThreadedTransport()
        let event = RegistryStoreContract.chain(1)[0]
        let push = JSON.object(["base": .null, "events": .array([event.jsonWithID])]).canonicalBytes
        let report = JSON.object(["node": "n1", "database": "app.db", "revision": "base", "direction": "up", "at": "2026-01-01T00:00:00.000Z"]).canonicalBytes
        // Every route of docs/openapi.yaml that names a project.
        let routes: [(String, String, [UInt8]?)] = [
            ("PUT", "", JSON.object([:]).canonicalBytes), ("GET", "/events", nil), ("POST", "/events", push), ("POST", "/reports", report),
            ("GET", "/fleet", nil), ("PUT", "/environments/prod", JSON.object(["revision": .string(event.id)]).canonicalBytes),
            ("GET", "/environments/prod", nil), ("GET", "/audit", nil),
        ]
        let auditBefore = try await store.audit(of: "lab").count
        for (method, path, body) in routes {
            let r = try await transport.send(StrataSync.HTTPRequest(method: method, url: "http://127.0.0.1:\(port)/v1/projects/lab\(path)",
                                                                    headers: ["Authorization": "Bearer s3cret", "Content-Type": "application/json"], body: body))
            XCTAssertEqual(r.status, 403, "\(method) \(path)")
            let error = try JSON.parse(r.body)
            XCTAssertEqual(error["code"]?.stringValue, "auth.project", "\(method) \(path)")
            XCTAssertEqual(error["error"]?.stringValue, "ana's token is for shop only, not for project lab", "\(method) \(path)")
        }
        await assertEqual(try await store.audit(of: "lab").count, auditBefore, "nothing written")
        await assertEqual(try await store.count(of: "lab"), 0)
        await assertEqual(try await store.reports(of: "lab").count, 0)
        await assertEqual(try await store.targets(of: "lab").count, 0)
        // On its own project the same token works; a token for both projects works on both.
        let own = try await transport.send(StrataSync.HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/v1/projects/shop/events",
                                                                  headers: ["Authorization": "Bearer s3cret", "Content-Type": "application/json"], body: push))
        XCTAssertEqual(own.status, 200, String(decoding: own.body, as: UTF8.self))
        let both = try await transport.send(StrataSync.HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/v1/projects/lab/events",
                                                                   headers: ["Authorization": "Bearer b0", "Content-Type": "application/json"], body: push))
        XCTAssertEqual(both.status, 200, String(decoding: both.body, as: UTF8.self))
        try await registry.stop()
    }

    func testTheTokensFileTakesAProjectList() throws {
        XCTAssertThrowsError(try TokenTable(text: "ana push s3cret shop extra\n", source: "tokens.txt")) {
            XCTAssertEqual("\($0)", "tokens.txt:1: expected `NAME ROLE SECRET [PROJECT,...] [nodes=NODE,...]` with ROLE read, push or admin")
        }
        let table = try TokenTable(text: "ana push s3cret shop,lab\nroot admin r00t\n", source: "tokens.txt")
        XCTAssertEqual(table.identify(authorization: "Bearer s3cret")?.projects, ["shop", "lab"])
        XCTAssertNil(table.identify(authorization: "Bearer r00t")?.projects, "no list: every project")
    }
}
