import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StrataCore
import StrataRegistry
import StrataSync
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
}
