import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StrataCore
@testable import StrataRegistry
import XCTest

/// The pages over HTTP, where a browser's view hides them: the cookie's
/// attributes, where the login form may lead, scoped tokens, and names
/// from events in the SVG. (PageTests in StrataCLITests drives Chromium.)
final class PagesTests: XCTestCase {
    /// Answers without following redirects.
    final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) { completionHandler(nil) }
    }

    struct Page {
        let status: Int
        let headers: [String: String]
        let body: String
    }

    /// Keeps no cookies: each request carries only the headers it is given.
    let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        return URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }()

    func get(_ registry: InProcessRegistry, _ path: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil) async throws -> Page {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(registry.port)\(path)")!)
        request.httpMethod = method
        request.httpShouldHandleCookies = false
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields[String(describing: k).lowercased()] = String(describing: v) }
        return Page(status: http.statusCode, headers: fields, body: String(decoding: data, as: UTF8.self))
    }

    func registry() async throws -> InProcessRegistry {
        let store = MemoryRegistryStore()
        for p in ["shop", "lab"] { try await store.createProject(p, by: "test", at: "t0") }
        // A table whose name is markup: names come from events, which push tokens write.
        let e = Event(parents: [], author: "ana <ana@example.com>", timestamp: 1, message: "<b>bold</b> \u{202E}gpj.exe",
                      ops: [.createTable(Table(name: "<img src=x onerror=alert(1)>", columns: [Column(name: "id", type: "INTEGER")],
                                               constraints: TableConstraints(primaryKey: ["id"])), indexes: [], triggers: [])])
        _ = try await store.push([e], to: "shop", base: nil, by: "ana", at: "t1")
        let tokens = try TokenTable(text: "root admin s3cret\nviewer read v1ew shop\n", source: "test")
        return try await InProcessRegistry.start(RegistryService(store: store, tokens: tokens))
    }

    func testTheLoginFormOpensASessionInAnHttpOnlySameSiteCookieAndLeadsOnlyToPagesHere() async throws {
        let registry = try await registry()
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        let ok = try await get(registry, "/ui/login", method: "POST", headers: form, body: "token=v1ew&next=%2Fui%2Fshop%2Ffleet")
        XCTAssertEqual(ok.status, 303)
        XCTAssertEqual(ok.headers["location"], "/ui/shop/fleet")
        let id = String(ok.headers["set-cookie"]?.dropFirst("strata_session=".count).prefix { $0 != ";" } ?? "")
        XCTAssertEqual(ok.headers["set-cookie"], "strata_session=\(id); Path=/ui; HttpOnly; SameSite=Lax; Max-Age=43200")
        XCTAssertEqual(id.count, 64)
        // Behind a TLS-terminating load balancer, the cookie is Secure too.
        let tls = try await get(registry, "/ui/login", method: "POST", headers: form.merging(["X-Forwarded-Proto": "https"]) { $1 }, body: "token=v1ew&next=/ui")
        XCTAssertTrue(tls.headers["set-cookie"]?.hasSuffix("; Path=/ui; HttpOnly; SameSite=Lax; Max-Age=43200; Secure") == true, "\(tls.headers)")
        XCTAssertNotEqual(tls.headers["set-cookie"], ok.headers["set-cookie"]! + "; Secure", "each sign-in is a new session")
        for elsewhere in ["https://evil.example/", "//evil.example/ui", "/v1/projects/shop/audit", "/ui\\@evil.example"] {
            let r = try await get(registry, "/ui/login", method: "POST", headers: form,
                                  body: "token=v1ew&next=\(elsewhere.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
            XCTAssertEqual(r.headers["location"], "/ui", elsewhere)
        }
        let wrong = try await get(registry, "/ui/login", method: "POST", headers: form, body: "token=nope&next=/ui/shop")
        XCTAssertEqual(wrong.status, 401)
        XCTAssertNil(wrong.headers["set-cookie"])
        let out = try await get(registry, "/ui/logout", method: "POST")
        XCTAssertEqual(out.headers["set-cookie"], "strata_session=; Path=/ui; HttpOnly; SameSite=Lax; Max-Age=0")
        try await registry.stop()
    }

    func testTheCookieReadsPagesWithinItsTokensScopeOnly() async throws {
        let registry = try await registry()
        let login = try await get(registry, "/ui/login", method: "POST", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: "token=v1ew")
        let id = String(login.headers["set-cookie"]?.dropFirst("strata_session=".count).prefix { $0 != ";" } ?? "")
        let cookie = ["Cookie": "other=1; strata_session=\(id)"]
        let shop = try await get(registry, "/ui/shop", headers: cookie)
        XCTAssertEqual(shop.status, 200)
        XCTAssertEqual(shop.headers["content-security-policy"],
                       "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        // A bidi override shows as what it is instead of reordering the text.
        XCTAssertTrue(shop.body.contains(#"<div class="message">&lt;b&gt;bold&lt;/b&gt; \u{202e}gpj.exe</div>"#), shop.body)
        XCTAssertFalse(shop.body.contains("\u{202E}"), "no raw override anywhere on the page")
        XCTAssertTrue(shop.body.contains(#"<span class="author">ana &lt;ana@example.com&gt;</span>"#), shop.body)
        let lab = try await get(registry, "/ui/lab/fleet", headers: cookie)
        XCTAssertEqual(lab.status, 403)
        XCTAssertTrue(lab.body.contains("viewer&#39;s token is for shop only, not for project lab"), lab.body)
        let list = try await get(registry, "/ui", headers: cookie)
        XCTAssertTrue(list.body.contains(#"<li><a href="/ui/shop">shop</a></li>"#) && !list.body.contains("/ui/lab"), list.body)
        let none = try await get(registry, "/ui/shop/audit")
        XCTAssertEqual(none.status, 401)
        XCTAssertFalse(none.body.contains("bold"))
        let missing = try await get(registry, "/ui/shop/events/abcdef", headers: cookie)
        XCTAssertEqual(missing.status, 404)
        XCTAssertTrue(missing.body.contains("no revision abcdef in project shop"), missing.body)
        let method = try await get(registry, "/ui/shop", method: "DELETE", headers: cookie)
        XCTAssertEqual(method.status, 405)
        try await registry.stop()
    }

    func testAMergeShowsAsAMergeAndASignedEventNamesItsSigner() async throws {
        let store = MemoryRegistryStore()
        try await store.createProject("shop", by: "test", at: "t0")
        let key = SigningKey.generate()
        let root = try key.sign(RegistryStoreContract.chain(1, tag: "root")[0])
        let left = RegistryStoreContract.chain(1, from: root.id, tag: "left")[0], right = RegistryStoreContract.chain(1, from: root.id, tag: "right")[0]
        let merge = Event(parents: [left.id, right.id], author: "ana", timestamp: 9, message: "join", ops: [])
        _ = try await store.push([root, left, right, merge], to: "shop", base: nil, by: "ana", at: "t1")
        let registry = try await InProcessRegistry.start(RegistryService(store: store, tokens: try TokenTable(text: "", source: "test")))
        let page = try await get(registry, "/ui/shop")
        XCTAssertEqual(page.status, 200, "no tokens file: the registry is open to read, pages included")
        XCTAssertTrue(page.body.contains(#"<li class="event merge" data-id="\#(merge.id)">"#), page.body)
        XCTAssertTrue(page.body.contains(#"<span class="tag merge">merge of <code>\#(left.id.prefix(12))</code> <code>\#(right.id.prefix(12))</code> </span>"#), page.body)
        XCTAssertTrue(page.body.contains(#"signed by <span class="signer">\#(key.publicKeyText)</span>"#), page.body)
        XCTAssertEqual(page.body.components(separatedBy: "signed by").count - 1, 1, "only the signed event says so")
        try await registry.stop()
    }

    func testThePagesFollowPushesAfterTheyWereFirstRead() async throws {
        let store = MemoryRegistryStore()
        try await store.createProject("shop", by: "test", at: "t0")
        let chain = RegistryStoreContract.chain(5)
        _ = try await store.push(Array(chain.prefix(3)), to: "shop", base: nil, by: "ana", at: "t1")
        let registry = try await InProcessRegistry.start(RegistryService(store: store, tokens: try TokenTable(text: "", source: "test")))
        let before = try await get(registry, "/ui/shop")
        XCTAssertTrue(before.body.contains("<p class=\"muted\">3 events; head"), before.body)
        _ = try await store.push(Array(chain.suffix(2)), to: "shop", base: chain[2].id, by: "bo", at: "t2")
        let after = try await get(registry, "/ui/shop")
        XCTAssertTrue(after.body.contains("<p class=\"muted\">5 events; head <a href=\"/ui/shop/events/\(chain[4].id)\">"), after.body)
        XCTAssertEqual(after.body.components(separatedBy: "pushed by <span class=\"pusher\">bo</span>").count - 1, 2)
        let schema = try await get(registry, "/ui/shop/schema?at=\(chain[3].id.prefix(8))")
        XCTAssertEqual(schema.status, 200)
        XCTAssertTrue(schema.body.contains("<p class=\"muted\">4 tables,"), schema.body)
        try await registry.stop()
    }

    /// After a push, the cached view is extended with the new events, not
    /// read again; a request still holding the old view sees it unchanged.
    func testAViewIsExtendedByWhatWasPushedAndTheOldOneStaysAsItWas() async throws {
        let store = MemoryRegistryStore()
        try await store.createProject("shop", by: "test", at: "t0")
        let chain = RegistryStoreContract.chain(5)
        _ = try await store.push(Array(chain.prefix(3)), to: "shop", base: nil, by: "ana", at: "t1")
        let cache = PageCache()
        let old = try await cache.view(of: "shop", in: store)
        _ = try await store.push(Array(chain.suffix(2)), to: "shop", base: chain[2].id, by: "bo", at: "t2")
        let new = try await cache.view(of: "shop", in: store)
        await assertEqual(await cache.wholeReads, 1, "extended, not read again")
        XCTAssertEqual(new.order, chain.map(\.id))
        XCTAssertEqual(new.pushed[chain[4].id]?.by, "bo")
        XCTAssertEqual(old.order, Array(chain.prefix(3)).map(\.id))
        XCTAssertEqual(try old.log.count(), 3, "the old view's log is its own")
        XCTAssertEqual(try new.state(at: chain[4].id).tables.count, 5)
        let again = try await cache.view(of: "shop", in: store)
        XCTAssertTrue(again === new)
    }

    func testNamesFromEventsAreEscapedInTheDiagram() async throws {
        let registry = try await registry()
        let page = try await get(registry, "/ui/shop/schema", headers: ["Authorization": "Bearer s3cret"])
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains(#"<g class="table" data-table="&lt;img src=x onerror=alert(1)&gt;">"#), page.body)
        XCTAssertTrue(page.body.contains(#"class="name">&lt;img src=x onerror=alert(1)&gt;</text>"#), page.body)
        XCTAssertFalse(page.body.contains("<img"), "no element made of a name")
        try await registry.stop()
    }

    func testTheDiagramPutsEachTableRightOfTheTablesItReferences() {
        func table(_ name: String, _ refs: [String]) -> Table {
            Table(name: name, columns: [Column(name: "id", type: "INTEGER")] + refs.map { Column(name: "\($0)_id", type: "INTEGER") },
                  constraints: TableConstraints(primaryKey: ["id"], foreignKeys: refs.map {
                      ForeignKey(columns: ["\($0)_id"], referencedTable: $0, referencedColumns: ["id"])
                  }))
        }
        let tables = [table("users", []), table("orders", ["users"]), table("items", ["orders", "products"]), table("products", []),
                      table("a", ["b"]), table("b", ["a"]), table("tree", ["tree"])]
        XCTAssertEqual(SchemaDiagram.layers(tables), ["users": 0, "products": 0, "orders": 1, "items": 2, "a": 1, "b": 0, "tree": 0])
    }
}
