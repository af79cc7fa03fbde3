import Foundation
import StrataCore
import StrataSync
import XCTest

/// Faults a real registry does not produce on demand (a 503, a dropped
/// connection), injected in front of the client: it retries with backoff,
/// then reports the registry unreachable.
final class RetryTests: XCTestCase {
    final class ScriptedTransport: Transport {
        enum Step { case fail, status(Int, String) }
        var script: [Step]
        var calls = 0
        init(_ script: [Step]) { self.script = script }
        func send(_ request: HTTPRequest) throws -> HTTPResponse {
            calls += 1
            switch script.isEmpty ? .status(200, "{\"events\":[],\"head\":null,\"more\":false}") : script.removeFirst() {
            case .fail: throw TransportError(code: 7, message: "Couldn't connect to server")
            case let .status(code, body): return HTTPResponse(status: code, body: Array(body.utf8))
            }
        }
    }

    func client(_ t: ScriptedTransport) -> RegistryClient {
        let c = RegistryClient(baseURL: "http://127.0.0.1:9", project: "shop", token: "x", transport: t)
        c.backoff = [0.01, 0.02, 0.04]
        return c
    }

    func testConnectionErrorsAndServerErrorsAreRetried() throws {
        let t = ScriptedTransport([.fail, .status(503, "{\"error\":\"busy\"}"), .fail])
        let page = try client(t).events(after: nil)
        XCTAssertEqual(page.events.count, 0)
        XCTAssertEqual(t.calls, 4)
    }

    func testAnUnreachableRegistryIsReportedAfterTheRetries() {
        let t = ScriptedTransport([.fail, .fail, .fail, .fail, .fail])
        XCTAssertThrowsError(try client(t).events(after: nil)) { error in
            guard case SyncError.unreachable(let url, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(url, "http://127.0.0.1:9")
            XCTAssertEqual(reason, "Couldn't connect to server")
        }
        XCTAssertEqual(t.calls, 4, "one try and three retries")
    }

    func testClientErrorsAreNotRetried() {
        let t = ScriptedTransport([.status(403, "{\"error\":\"viewer has the read role; this needs push\"}")])
        XCTAssertThrowsError(try client(t).push([], base: nil)) { error in
            guard case SyncError.refused(403, let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(message, "viewer has the read role; this needs push")
        }
        XCTAssertEqual(t.calls, 1)
    }
}
