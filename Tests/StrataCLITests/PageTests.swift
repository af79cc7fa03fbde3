import Foundation
import XCTest

/// The registry's pages in headless Chromium (ops/setup installs it for
/// ops/test): what a person sees, after the login form, with the DOM as
/// the browser built it.
final class PageTests: XCTestCase {
    /// `chromium --headless --dump-dom URL` with one profile (its cookies) per browser.
    final class Browser {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("strata-chromium-\(UUID().uuidString)")
        deinit { try? FileManager.default.removeItem(at: profile) }

        static var executable: String {
            ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }
                ?? "/usr/bin/chromium"
        }

        func run(_ arguments: [String]) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Browser.executable)
            p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                           "--user-data-dir=\(profile.path)"] + arguments
            // A page dump takes a second or two; two minutes is a hang.
            return String(decoding: try CLI.finish(p, limit: 120).stdout, as: UTF8.self)
        }

        /// The DOM after the page (and any navigation it starts) loaded.
        func dom(_ url: String) throws -> String { try run(["--virtual-time-budget=5000", "--dump-dom", url]) }

        /// Fills in and submits the login form on the registry's own page,
        /// as a person would (ops/browse, over Chromium's DevTools pipe);
        /// the DOM of the page it leads to.
        func logIn(_ registry: RegistryProcess, token: String, next: String) throws -> String {
            let form = try dom("\(registry.url)/ui/login?next=\(next)")
            XCTAssertTrue(form.contains(#"<form class="login" method="post" action="/ui/login">"#), form)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", CLI.repository.appendingPathComponent("ops/browse").path, "--profile", profile.path, "--login", registry.url, token, next]
            let r = try CLI.finish(p, limit: 120)
            XCTAssertEqual(r.status, 0, "ops/browse: \(String(decoding: r.stderr, as: UTF8.self))")
            return String(decoding: r.stdout, as: UTF8.self)
        }

        /// A form posted to the registry from another site's page (here a file of the test's own).
        func postFromElsewhere(_ registry: RegistryProcess, _ path: String, fields: [String: String]) throws -> String {
            let page = profile.deletingLastPathComponent().appendingPathComponent("elsewhere-\(UUID().uuidString).html")
            defer { try? FileManager.default.removeItem(at: page) }
            let inputs = fields.map { #"<input name="\#($0.key)" value="\#($0.value)">"# }.joined()
            try """
                <!doctype html><form method="post" action="\(registry.url)\(path)">\(inputs)</form><script>document.forms[0].submit()</script>
                """.write(to: page, atomically: true, encoding: .utf8)
            return try dom(page.absoluteString)
        }
    }

    /// Three nodes, a promoted environment, a merge-free history with a
    /// foreign key, and a message that holds HTML.
    func fleetWithHistory() throws -> (RegistryProcess, [CLI], [String]) {
        let registry = try RegistryProcess()
        let nodes = try [("alpha", "s3cret-ana"), ("beta", "s3cret-bo"), ("gamma", "s3cret-cy")].map { try CLI.node($0.0, registry: registry, token: $0.1) }
        try nodes[0].write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n")
        try nodes[0].ok("revision", "--autogenerate", "-m", "users")
        try nodes[0].write("models.sql", """
            CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), total REAL);
            """)
        try nodes[0].ok("revision", "--autogenerate", "-m", "orders <script>alert('x')</script> & more")
        try nodes[0].ok("push")
        let ids = try nodes[0].ids() // newest first
        nodes[0].env["STRATA_TOKEN"] = "s3cret-root"
        try nodes[0].ok("promote", String(ids[1].prefix(12)), "--env", "prod")
        nodes[0].env["STRATA_TOKEN"] = "s3cret-ana"
        for n in nodes { try n.ok("sync", "--apply", "--env", "prod") }
        nodes[0].env["STRATA_TOKEN"] = "s3cret-root"
        try nodes[0].ok("promote", String(ids[0].prefix(12)), "--env", "prod")
        nodes[0].env["STRATA_TOKEN"] = "s3cret-ana"
        for n in [nodes[0], nodes[2]] { try n.ok("sync", "--apply", "--env", "prod") } // at target; beta stays one event behind
        _ = try nodes[2].sqlite("app.db", "CREATE TABLE scratch (x)")
        try nodes[2].ok("sync", "--apply", "--env", "prod") // at target, drifted
        return (registry, nodes, ids)
    }

    func testThePagesShowTheHistoryTheEventTheSchemaTheFleetAndTheAuditTrail() throws {
        let (registry, _, ids) = try fleetWithHistory()
        let browser = Browser()

        // Without a token: the login form, and nothing of the project.
        let anonymous = try browser.dom("\(registry.url)/ui/shop")
        XCTAssertTrue(anonymous.contains("<h1>Sign in</h1>"), anonymous)
        XCTAssertFalse(anonymous.contains("orders"), "nothing shown without a token")
        XCTAssertFalse(anonymous.contains("ana@"), "nothing shown without a token")

        // History, after logging in with a read token.
        let history = try browser.logIn(registry, token: "s3cret-view", next: "/ui/shop")
        XCTAssertTrue(history.contains("<h1>shop</h1>"), history)
        XCTAssertTrue(history.contains(#"<div class="message">orders &lt;script&gt;alert('x')&lt;/script&gt; &amp; more</div>"#), history)
        XCTAssertFalse(history.contains("<script>"), "the message is text, never an element")
        XCTAssertTrue(history.contains(#"<div class="message">users</div>"#))
        XCTAssertEqual(history.components(separatedBy: #"<span class="author">alpha@example.com</span>"#).count - 1, 2)
        XCTAssertEqual(history.components(separatedBy: #"pushed by <span class="pusher">ana</span>"#).count - 1, 2)
        XCTAssertTrue(history.contains("<li>create table orders (id, user_id, total)</li>"), history)
        XCTAssertTrue(history.contains("viewer (read)"), "who is signed in")
        // Newest first.
        XCTAssertLessThan(history.range(of: ids[0])!.lowerBound, history.range(of: ids[1])!.lowerBound)

        // The event: ops, inverse and the SQL both ways.
        let event = try browser.dom("\(registry.url)/ui/shop/events/\(ids[0].prefix(8))")
        XCTAssertTrue(event.contains(#"<ul class="ops" id="inverse"><li>drop table orders</li></ul>"#), event)
        XCTAssertTrue(event.contains("""
            <pre id="upgrade">CREATE TABLE orders (
                id INTEGER PRIMARY KEY,
                user_id INTEGER NOT NULL,
                total REAL,
                FOREIGN KEY (user_id) REFERENCES users (id)
            );
            </pre>
            """), event)
        XCTAssertTrue(event.contains(#"<pre id="downgrade">DROP TABLE orders;"#), event)

        // The schema at head draws both tables and the reference between them.
        let schema = try browser.dom("\(registry.url)/ui/shop/schema")
        XCTAssertTrue(schema.contains(#"<g class="table" data-table="users">"#), schema)
        XCTAssertTrue(schema.contains(#"<g class="table" data-table="orders">"#), schema)
        XCTAssertTrue(schema.contains("<title>orders.user_id references users</title>"), schema)
        XCTAssertTrue(schema.contains(#"href="/ui/shop/events/\#(ids[0])">changes from its parent</a>"#), schema)
        // At the first revision: one table, no reference.
        let early = try browser.dom("\(registry.url)/ui/shop/schema?at=\(ids[1].prefix(8))")
        XCTAssertTrue(early.contains(#"data-table="users""#) && !early.contains(#"data-table="orders""#), early)

        // The fleet: each node at its revision, against prod's target.
        let fleet = try browser.dom("\(registry.url)/ui/shop/fleet")
        let row = { (node: String) -> String in
            guard let start = fleet.range(of: #"<tr data-node="\#(node)">"#) else { return "" }
            return String(fleet[start.lowerBound...].prefix { $0 != "\n" }.prefix(while: { _ in true }).components(separatedBy: "</tr>")[0])
        }
        XCTAssertTrue(row("alpha").contains("<code>\(ids[0].prefix(12))</code>") && row("alpha").contains(#"<td class="ok">at target</td>"#), row("alpha"))
        XCTAssertTrue(row("beta").contains("<code>\(ids[1].prefix(12))</code>") && row("beta").contains(#"<td class="warn">behind target by 1 event</td>"#), row("beta"))
        XCTAssertTrue(row("gamma").contains(#"<td class="bad">drifted: its schema is not what its revision says</td>"#), row("gamma"))
        XCTAssertTrue(fleet.contains("2 databases need attention"), fleet)

        // The audit trail.
        let audit = try browser.dom("\(registry.url)/ui/shop/audit")
        XCTAssertTrue(audit.contains("<td>root</td><td>promote</td>"), audit)
        XCTAssertTrue(audit.contains("<td>ana</td><td>push</td>"), audit)
    }

    func testAWrongTokenIsRefusedAndAScopedOneSeesOnlyItsProjects() throws {
        let registry = try RegistryProcess()
        let browser = Browser()
        let wrong = try browser.logIn(registry, token: "not-a-token", next: "/ui/shop")
        XCTAssertTrue(wrong.contains(#"<p class="error" id="login-error">That token is not known here.</p>"#), wrong)
        XCTAssertTrue(try browser.dom("\(registry.url)/ui/shop").contains("<h1>Sign in</h1>"), "no cookie was set")
        // The form with a right token, posted from another site's page: refused, nobody signed in.
        let elsewhere = try browser.postFromElsewhere(registry, "/ui/login", fields: ["token": "s3cret-view", "next": "/ui/shop"])
        XCTAssertTrue(elsewhere.contains("this form was sent from another site's page"), elsewhere)
        XCTAssertTrue(try browser.dom("\(registry.url)/ui/shop").contains("<h1>Sign in</h1>"), "no session was opened")
    }

    func testPublicReadShowsThePagesWithoutAToken() throws {
        let registry = try RegistryProcess(extraArguments: ["--public-read"])
        let node = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
        try node.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
        try node.ok("revision", "--autogenerate", "-m", "users")
        try node.ok("push")
        let page = try Browser().dom("\(registry.url)/ui/shop")
        XCTAssertTrue(page.contains(#"<div class="message">users</div>"#), page)
        XCTAssertFalse(page.contains("Sign out"), "nobody is signed in")
    }
}
