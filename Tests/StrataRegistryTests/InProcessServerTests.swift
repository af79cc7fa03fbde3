import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StrataCore
import StrataRegistry
import StrataSync
import StrataWire
import XCTest

/// The registry in this process on 127.0.0.1:0 and the real libcurl client,
/// from async code: the transport runs curl on its own thread, so the
/// server's handlers keep Swift's (two-thread) cooperative pool.
final class InProcessServerTests: XCTestCase {
    func testThreadedCurlTransportTalksToAnInProcessRegistry() async throws {
        let store = MemoryRegistryStore()
        try await store.createProject("shop", by: "test", at: "t0")
        let tokens = try TokenTable(text: "ana push s3cret\n", source: "test")
        let registry = try await InProcessRegistry.start(RegistryService(store: store, tokens: tokens))
        let port = registry.port
        let base = "http://127.0.0.1:\(port)/v1/projects/shop/events"
        let transport = ThreadedTransport()
        var head: String?
        for event in RegistryStoreContract.chain(20) {
            let body = JSON.object(["base": head.map(JSON.string) ?? .null, "events": .array([event.jsonWithID])])
            let r = try await transport.send(StrataSync.HTTPRequest(method: "POST", url: base, headers: ["Authorization": "Bearer s3cret", "Content-Type": "application/json"],
                                                         body: body.canonicalBytes))
            XCTAssertEqual(r.status, 200, String(decoding: r.body, as: UTF8.self))
            head = event.id
        }
        let page = try await transport.send(StrataSync.HTTPRequest(method: "GET", url: base + "?limit=5", headers: ["Authorization": "Bearer s3cret"]))
        let json = try JSON.parse(page.body)
        XCTAssertEqual(json["events"]?.arrayValue?.count, 5)
        XCTAssertEqual(json["more"], .bool(true))
        XCTAssertEqual(json["head"]?.stringValue, head)
        try await registry.stop()
    }

    /// A push that lands between a pull's read of its last page and the
    /// answer (another registry process, or another request) must not make
    /// the page name a head it does not hold: the node would record a
    /// registry head it lacks, and its next sync would fail.
    func testTheLastPageNamesTheHeadItHolds() async throws {
        let chain = RegistryStoreContract.chain(4)
        let store = PushingBetweenReads(pushing: chain[3])
        try await store.createProject("shop", by: "test", at: "t0")
        _ = try await store.push(Array(chain.prefix(3)), to: "shop", base: nil, by: "ana", at: "t1")
        let registry = try await InProcessRegistry.start(RegistryService(store: store, tokens: try TokenTable(text: "ana push s3cret\n", source: "test")))
        let page = try JSON.parse(try await registry.send("GET", "/v1/projects/shop/events?limit=10", token: "s3cret").body)
        XCTAssertEqual(page["events"]?.arrayValue?.count, 3)
        XCTAssertEqual(page["more"], .bool(false))
        XCTAssertEqual(page["head"]?.stringValue, chain[2].id, "the page's own last event, not the event pushed meanwhile")
        await assertEqual(try await store.head(of: "shop"), chain[3].id, "the other push did land")
        try await registry.stop()
    }
}

/// A memory store where, right after a page of events is read, one more
/// event is pushed (the interleaving of two requests, made certain).
final class PushingBetweenReads: RegistryStore, @unchecked Sendable {
    let base = MemoryRegistryStore()
    var pending: Event?
    init(pushing event: Event) { pending = event }
    var location: String { "(memory, pushing between reads)" }

    func events(of project: String, after: String?, limit: Int) async throws -> (events: [PushedEvent], more: Bool) {
        let page = try await base.events(of: project, after: after, limit: limit)
        if let e = pending {
            pending = nil
            _ = try await base.push([e], to: project, base: try await base.head(of: project), by: "bo", at: "t2")
        }
        return page
    }
    func createProject(_ name: String, by identity: String, at time: String) async throws { try await base.createProject(name, by: identity, at: time) }
    func hasProject(_ name: String) async throws -> Bool { try await base.hasProject(name) }
    func projects() async throws -> [String] { try await base.projects() }
    func head(of project: String) async throws -> String? { try await base.head(of: project) }
    func count(of project: String) async throws -> Int { try await base.count(of: project) }
    func countAfter(_ after: String, of project: String) async throws -> Int { try await base.countAfter(after, of: project) }
    func push(_ events: [Event], to project: String, base head: String?, by identity: String, signers: [String], at time: String) async throws -> String {
        try await base.push(events, to: project, base: head, by: identity, signers: signers, at: time)
    }
    func setTarget(_ revision: String, environment: String, of project: String, by identity: String, at time: String) async throws {
        try await base.setTarget(revision, environment: environment, of: project, by: identity, at: time)
    }
    func targets(of project: String) async throws -> [EnvironmentTarget] { try await base.targets(of: project) }
    func record(_ reports: [Report], of project: String, by identity: String, at time: String) async throws {
        try await base.record(reports, of: project, by: identity, at: time)
    }
    func reports(of project: String) async throws -> [StoredReport] { try await base.reports(of: project) }
    func audit(of project: String) async throws -> [AuditRecord] { try await base.audit(of: project) }
    func rollout(of project: String, environment: String) async throws -> StoredRollout? { try await base.rollout(of: project, environment: environment) }
    func saveRollout(_ rollout: Rollout, of project: String, expected: Int?, target: String?, note: AuditNote) async throws -> Bool {
        try await base.saveRollout(rollout, of: project, expected: expected, target: target, note: note)
    }
}
