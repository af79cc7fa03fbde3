import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import XCTest
import StrataCore
import StrataSync
import StrataTestSupport
import StrataWire

/// What a push token can make a node run: SQL text inside ops is checked
/// where it enters (the registry, the node's pull, before a run) and what
/// runs is confined. Real registry process, real libcurl, real CLI.
final class SecurityTests: XCTestCase {
    static let index = Index(name: "ix_users_name", table: "users", terms: ["name"], predicate: "1; DELETE FROM users")

    /// A node with `users` (100 rows) at its head, pushed.
    func node(_ registry: RegistryProcess) throws -> (CLI, String) {
        let alpha = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
        try alpha.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n")
        try alpha.ok("revision", "--autogenerate", "-m", "v1")
        try alpha.ok("push")
        try alpha.ok("upgrade", "head")
        _ = try alpha.sqlite("app.db", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO users SELECT i, 'u' || i FROM n")
        return (alpha, try alpha.ids()[0])
    }

    /// Puts an event into a log file as a store that skipped every check
    /// would: a compromised registry, or a log written by hand.
    func smuggle(_ e: Event, into path: String, project: String, on cli: CLI) throws {
        let hex = e.canonicalBytes.map { String(format: "%02x", $0) }.joined()
        let parent = e.parents[0]
        _ = try cli.sqlite(path, """
            INSERT INTO events (project, id, height, body) SELECT '\(project)', '\(e.id)', height + 1, X'\(hex)' FROM events WHERE id = '\(parent)';
            DELETE FROM heads WHERE project = '\(project)' AND id = '\(parent)';
            INSERT INTO heads (project, id) VALUES ('\(project)', '\(e.id)');
            INSERT INTO edges (project, parent, child) VALUES ('\(project)', '\(parent)', '\(e.id)');
            INSERT INTO remote (project, id, pushed_by, pushed_at) VALUES ('\(project)', '\(e.id)', 'mallory', '2026-12-03T00:00:00.000Z');
            """)
        XCTAssertEqual(try cli.sqlite(path, "SELECT count(*) FROM events WHERE id = '\(e.id)'"), "1")
    }

    func testSQLInsideOpsIsRefusedAtThePush() throws {
        let registry = try RegistryProcess()
        let (_, head) = try node(registry)
        let transport = CurlTransport()
        func push(_ ops: [Op]) throws -> (Int, [String: Any], Event) {
            let e = Event(parents: [head], author: "mallory", timestamp: 2, message: "innocent", ops: ops)
            let body = JSON.object(["base": .string(head), "events": .array([e.jsonWithID])]).canonicalString
            let r = try transport.send(HTTPRequest(method: "POST", url: registry.url + "/v1/projects/shop/events",
                                                   headers: ["Content-Type": "application/json", "Authorization": "Bearer s3cret-ana"], body: Array(body.utf8)))
            return (r.status, try JSONSerialization.jsonObject(with: Data(r.body)) as! [String: Any], e)
        }
        let (status, body, e) = try push([.createIndex(Self.index)])
        XCTAssertEqual(status, 400)
        XCTAssertEqual(body["code"] as? String, "event.unsafe")
        XCTAssertEqual(body["error"] as? String, "event \(e.id.prefix(12)), op 1 (create index ix_users_name on users): the WHERE of index ix_users_name "
            + "`1; DELETE FROM users` holds more than one statement; strata runs only SQL that is what its place in an op says, so nothing was changed")
        var users = Table(name: "users", columns: [Column(name: "id", type: "INTEGER"), Column(name: "name", type: "TEXT")],
                          constraints: TableConstraints(primaryKey: ["id"]))
        users.columns[1].type = "TEXT); DELETE FROM users; --"
        for ops: [Op] in [[.exec(forward: "COMMIT; ATTACH DATABASE '/tmp/x.db' AS x; BEGIN", reverse: nil)],
                          [.exec(forward: "COMMIT; VACUUM INTO '/tmp/copy.db'; BEGIN", reverse: nil)],
                          [.exec(forward: "PRAGMA writable_schema = ON", reverse: nil)],
                          [.exec(forward: "DROP TABLE users", reverse: nil)],
                          [.addColumn(table: "users", column: Column(name: "x", type: "TEXT); DELETE FROM users; --"), position: 2)],
                          [.createView(View(name: "v", sql: "CREATE VIEW v AS SELECT 1; DELETE FROM users"))]] {
            let (status, body, _) = try push(ops)
            XCTAssertEqual(status, 400, "\(ops)")
            XCTAssertEqual(body["code"] as? String, "event.unsafe", "\(ops)")
        }
        let beta = try CLI.node("beta", registry: registry, token: "s3cret-bo")
        try beta.ok("pull")
        XCTAssertEqual(try beta.ids(), [head], "nothing was stored")
    }

    /// A registry that misbehaves (here: its store edited) serves an event
    /// with SQL smuggled into an op; the node refuses it on pull, names it,
    /// and writes nothing.
    func testANodeRefusesWhatItPullsAndWhatItsLogHolds() throws {
        let registry = try RegistryProcess()
        let (alpha, head) = try node(registry)
        let bad = Event(parents: [head], author: "mallory", timestamp: 2, message: "innocent", ops: [.createIndex(Self.index)])
        try smuggle(bad, into: registry.store, project: "shop", on: alpha)
        let pull = try alpha.run("pull")
        XCTAssertEqual(pull.status, 2, pull.stderr)
        XCTAssertTrue(pull.stderr.hasPrefix("error: event \(bad.id.prefix(12)), op 1 (create index ix_users_name on users): the WHERE of index ix_users_name"), pull.stderr)
        XCTAssertEqual(try alpha.ids(), [head])

        // A log that already holds such an event (written before the check,
        // or by hand) does not run it either.
        try smuggle(bad, into: alpha.path(".strata/log.db"), project: "", on: alpha)
        let up = try alpha.run("upgrade", "head")
        XCTAssertEqual(up.status, 2, up.stderr)
        XCTAssertTrue(up.stderr.contains("holds more than one statement"), up.stderr)
        XCTAssertEqual(try alpha.sqlite("app.db", "SELECT count(*) FROM users"), "100")
        XCTAssertEqual(try alpha.sqlite("app.db", "SELECT revision FROM strata_version"), head)
        XCTAssertEqual(try alpha.sqlite("app.db", "SELECT count(*) FROM sqlite_master WHERE name = 'ix_users_name'"), "0")
    }

    /// A data step runs one statement at a time under the authorizer: what
    /// is not rows of the application's tables is refused, and the run
    /// (one transaction) leaves the database as it was.
    func testADataStepIsConfinedToRows() throws {
        let registry = try RegistryProcess()
        let (alpha, head) = try node(registry)
        let r = try alpha.run("revision", "-m", "steal", "--exec", "UPDATE users SET name = 'x'; ATTACH DATABASE 'stolen.db' AS s")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("a data step holds only INSERT, UPDATE, DELETE, REPLACE and SELECT statements"), r.stderr)
        let load = try alpha.run("revision", "-m", "load", "--exec", "SELECT load_extension('/tmp/evil.so')")
        XCTAssertEqual(load.status, 2, load.stderr)
        XCTAssertTrue(load.stderr.contains("it calls load_extension(), which no migration may call"), load.stderr)
        let own = try alpha.run("revision", "-m", "own", "--exec", "UPDATE strata_version SET revision = 'x'")
        XCTAssertEqual(own.status, 2, own.stderr)
        XCTAssertTrue(own.stderr.contains("it writes rows of strata_version, a table of SQLite's or strata's own"), own.stderr)
        XCTAssertEqual(try alpha.ids(), [head], "nothing was appended")
        XCTAssertFalse(FileManager.default.fileExists(atPath: alpha.path("stolen.db")))
        try alpha.ok("revision", "-m", "fine", "--exec", "UPDATE users SET name = upper(name) WHERE id <= 3", "--reverse", "UPDATE users SET name = lower(name) WHERE id <= 3")
        let sql = try alpha.ok("upgrade", "head", "--sql").stdout
        XCTAssertTrue(sql.contains("-- data step\nUPDATE users SET name = upper(name) WHERE id <= 3;\n"), sql)
        try alpha.ok("upgrade", "head")
        XCTAssertEqual(try alpha.sqlite("app.db", "SELECT name FROM users WHERE id = 2"), "U2")
    }

    /// A models file runs on strata's scratch database, confined: it may
    /// shape that schema, never reach another file.
    func testAModelsFileCannotReachAnotherFile() throws {
        let cli = try CLI()
        try cli.ok("init", "--project", "shop", "--models", "models.sql", "--db", "app.db")
        try cli.write("models.sql", "ATTACH DATABASE 'elsewhere.db' AS e;\nCREATE TABLE e.t (x);\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n")
        let r = try cli.run("revision", "--autogenerate", "-m", "v1")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("statement at line 1: refused: it attaches or detaches a database, which no migration may do"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cli.path("elsewhere.db")))
        XCTAssertEqual(try cli.run("history").stdout, "(no revisions yet)\n", "nothing was recorded")
    }

    /// A node with `trusted_keys` pulls and runs only events signed by one
    /// of those keys: unsigned and stranger-signed events from a registry
    /// that takes them are refused on pull, named, and nothing is written.
    func testANodeRunsOnlyEventsSignedByATrustedKey() throws {
        let registry = try RegistryProcess()
        func signer(_ name: String) throws -> (CLI, String) {
            let cli = try CLI.node(name, registry: registry, token: "s3cret-ana")
            let key = try cli.ok("keys", "generate", "--out", "k").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try cli.write("strata.toml", try cli.read("strata.toml") + "signing_key = \"k\"\n")
            return (cli, key)
        }
        let (team, teamKey) = try signer("team")
        let (mallory, malloryKey) = try signer("mallory")
        try team.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
        let v1 = try team.ok("revision", "--autogenerate", "-m", "users").lines[0]
        try team.ok("push")

        let prod = try CLI()
        prod.env["STRATA_TOKEN"] = "s3cret-cy"
        let missing = try prod.run("init", "--project", "shop", "--node", "prod", "--db", "app.db", "--registry", registry.url, "--trust", "team.keys")
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("cannot read the trusted keys file"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: prod.path("strata.toml")), "nothing was written")
        try prod.write("team.keys", "# the team's keys\nana \(teamKey)\n")
        XCTAssertTrue(try prod.ok("init", "--project", "shop", "--node", "prod", "--db", "app.db", "--registry", registry.url, "--trust", "team.keys")
            .stdout.contains("trusts:    the keys of team.keys"))
        try prod.ok("pull")
        try prod.ok("upgrade", "head")

        // A stranger's signature (a push token is all it took).
        try mallory.ok("pull")
        try mallory.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE loot (x);\n")
        let v2 = try mallory.ok("revision", "--autogenerate", "-m", "loot").lines[0]
        try mallory.ok("push")
        let before = try prod.tree()
        let pull = try prod.run("pull")
        XCTAssertEqual(pull.status, 2)
        XCTAssertEqual(pull.stderr, "error: event \(v2.prefix(12)) (loot) is signed by \(malloryKey), which is not a trusted key, and this node runs only events "
            + "signed by a key of team.keys (trusted_keys in strata.toml); nothing was pulled\n")
        XCTAssertEqual(try prod.tree(), before, "nothing was written")
        XCTAssertEqual(try prod.run("sync", "--apply").status, 2)
        XCTAssertEqual(try prod.ids(), [v1])

        // With require_signatures = false, an unsigned event passes; a stranger's still does not.
        try prod.write("strata.toml", try prod.read("strata.toml") + "require_signatures = false\n")
        XCTAssertEqual(try prod.run("pull").status, 2)
        // A local revision the node made without a key is not run either (with signatures required).
        try prod.write("strata.toml", try prod.read("strata.toml").replacingOccurrences(of: "require_signatures = false", with: "require_signatures = true"))
        try prod.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE local (x);\n")
        let local = try prod.ok("revision", "--autogenerate", "-m", "local").lines[0]
        let up = try prod.run("upgrade", "head")
        XCTAssertEqual(up.status, 2)
        XCTAssertEqual(up.stderr, "error: event \(local.prefix(12)) (local) is not signed, and this node runs only events signed by a key of team.keys "
            + "(trusted_keys in strata.toml); nothing was run\n")
        XCTAssertEqual(try prod.sqlite("app.db", "SELECT revision FROM strata_version"), v1)
        try prod.write("strata.toml", try prod.read("strata.toml").replacingOccurrences(of: "require_signatures = true", with: "require_signatures = false"))
        try prod.ok("upgrade", "head")
    }

    /// The registry's events are append-only, and one whose body does not
    /// hash to its stored id (the store edited behind the registry's back)
    /// is never served: 503, naming it.
    func testTheRegistryNeverServesAnEditedEvent() throws {
        let registry = try RegistryProcess()
        let (alpha, head) = try node(registry)
        _ = try alpha.sqlite(registry.store, "UPDATE events SET body = X'00' WHERE id = '\(head)'; DELETE FROM events WHERE id = '\(head)'")
        XCTAssertEqual(try alpha.sqlite(registry.store, "SELECT count(*) FROM events WHERE id = '\(head)' AND body != X'00'"), "1", "neither ran")
        // An event stored under an id that is not its hash.
        let e = Event(parents: [head], author: "mallory", timestamp: 2, message: "edited", ops: [.exec(forward: "DELETE FROM users", reverse: nil)])
        let hex = e.canonicalBytes.map { String(format: "%02x", $0) }.joined()
        let fake = String(repeating: "f", count: 64)
        _ = try alpha.sqlite(registry.store, """
            INSERT INTO events (project, id, height, body) VALUES ('shop', '\(fake)', 2, X'\(hex)');
            INSERT INTO remote (project, id, pushed_by, pushed_at) VALUES ('shop', '\(fake)', 'mallory', '2026-12-03T00:00:00.000Z');
            """)
        let beta = try CLI.node("beta", registry: registry, token: "s3cret-bo")
        let pull = try beta.run("pull")
        XCTAssertEqual(pull.status, 4, pull.stderr)
        XCTAssertTrue(pull.stderr.contains("the store holds event ffffffffffff with a body that does not hash to its id"), pull.stderr)
        XCTAssertEqual(try beta.run("history").stdout, "(no revisions yet)\n", "nothing was written")
        let metrics = String(decoding: try CurlTransport().send(HTTPRequest(method: "GET", url: registry.url + "/metrics", headers: [:], body: [])).body, as: UTF8.self)
        XCTAssertTrue(metrics.contains("\nstrata_registry_corrupt_events_total 4\n"), "the pull's try and its three retries of a 503: \(metrics)")
    }

    /// A promote back to a revision whose schema lacks a table needs
    /// --allow-backward and names what it drops; the nodes keep the rows in
    /// the trash, and a promote forward brings them back.
    func testABackwardPromoteThatDropsDataMustBeAllowed() throws {
        let registry = try RegistryProcess()
        let (alpha, v1) = try node(registry)
        try alpha.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER);\n")
        let v2 = try alpha.ok("revision", "--autogenerate", "-m", "orders").lines[0]
        try alpha.ok("push")
        func promote(_ args: String...) throws -> CLI.Result {
            alpha.env["STRATA_TOKEN"] = "s3cret-root"
            defer { alpha.env["STRATA_TOKEN"] = "s3cret-ana" }
            return try alpha.run(["promote"] + args + ["--env", "prod"])
        }
        XCTAssertEqual(try promote(String(v2.prefix(8))).status, 0)
        try alpha.ok("sync", "--apply", "--env", "prod")
        _ = try alpha.sqlite("app.db", "INSERT INTO orders VALUES (1, 42), (2, 7)")
        let back = try promote(String(v1.prefix(8)))
        XCTAssertEqual(back.status, 2)
        XCTAssertEqual(back.stderr, "error: promoting prod from \(v2.prefix(12)) back to \(v1.prefix(12)) drops table orders on every node that "
            + "applies it (their data goes to each database's trash, where a promote forward finds it again, unless the node sets keep_dropped_data = false). "
            + "Pass --allow-backward to promote anyway\n")
        XCTAssertTrue(try alpha.ok("fleet").stdout.contains("environment prod -> \(v2.prefix(12))"), "the target did not move")
        XCTAssertEqual(try promote(String(v1.prefix(8)), "--allow-backward").status, 0)
        try alpha.ok("sync", "--apply", "--env", "prod")
        XCTAssertEqual(try alpha.sqlite("app.db", "SELECT count(*) FROM sqlite_master WHERE name = 'orders'"), "0")
        XCTAssertEqual(try promote(String(v2.prefix(8))).status, 0, "forward needs nothing")
        try alpha.ok("sync", "--apply", "--env", "prod")
        XCTAssertEqual(try alpha.sqlite("app.db", "SELECT * FROM orders ORDER BY id"), "1|42\n2|7", "the table is back with its rows")
    }

    /// Where a node's databases stand is said by the node alone: another
    /// push token cannot overwrite its report and show the fleet clean.
    func testAReportIsTakenOnlyFromItsNode() throws {
        let registry = try RegistryProcess()
        let (alpha, v1) = try node(registry)
        alpha.env["STRATA_TOKEN"] = "s3cret-root"
        try alpha.ok("promote", String(v1.prefix(8)), "--env", "prod")
        alpha.env["STRATA_TOKEN"] = "s3cret-ana"
        try alpha.ok("sync", "--apply", "--env", "prod")
        let before = try alpha.ok("fleet").stdout
        XCTAssertTrue(before.contains("\tapp.db\t\(v1.prefix(12))\t") && before.contains(" by ana [prod] at target"), before)
        let transport = CurlTransport()
        func report(_ node: String, token: String) throws -> (Int, [String: Any]) {
            let forged = Report(node: node, database: "app.db", revision: "base", direction: nil, at: "2026-12-03T00:00:00.000Z", environment: "prod", drifted: false)
            let r = try transport.send(HTTPRequest(method: "POST", url: registry.url + "/v1/projects/shop/reports",
                                                   headers: ["Content-Type": "application/json", "Authorization": "Bearer \(token)"],
                                                   body: Array(Report.batchJSON([forged]).canonicalString.utf8)))
            return (r.status, try JSONSerialization.jsonObject(with: Data(r.body)) as! [String: Any])
        }
        let (status, body) = try report("alpha", token: "s3cret-bo")
        XCTAssertEqual(status, 403)
        XCTAssertEqual(body["code"] as? String, "auth.node")
        XCTAssertEqual(body["error"] as? String, "bo reports for nodes beta, n1, n4, not for node alpha; node alpha reports with a token of its own name, "
            + "or one bound to it in the tokens file (`NAME push SECRET nodes=alpha`); nothing was recorded")
        XCTAssertEqual(try report("alpha", token: "s3cret-view").0, 403, "a read token reports for no one")
        XCTAssertEqual(try alpha.ok("fleet").stdout, before, "the fleet did not change")
        XCTAssertFalse(try alpha.ok("audit").stdout.contains(" bo "), "nor the audit trail")
        XCTAssertEqual(try report("beta", token: "s3cret-bo").0, 200, "bo reports for its own node")
    }

    /// Answers without following redirects, as they came.
    final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) { completionHandler(nil) }
    }

    func http(_ url: String, _ method: String = "GET", headers: [String: String] = [:], body: String? = nil) throws -> (status: Int, headers: [String: String], body: String) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpShouldHandleCookies = false
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.httpBody = body.map { Data($0.utf8) }
        final class Box: @unchecked Sendable { var value: (Int, [String: String], String)?; var error: Error? }
        let box = Box(), done = DispatchSemaphore(value: 0)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil  // only the headers given
        configuration.httpShouldSetCookies = false
        let session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
        session.dataTask(with: request) { data, response, error in
            if let http = response as? HTTPURLResponse {
                var fields: [String: String] = [:]
                for (k, v) in http.allHeaderFields { fields[String(describing: k).lowercased()] = String(describing: v) }
                box.value = (http.statusCode, fields, String(decoding: data ?? Data(), as: UTF8.self))
            }
            box.error = error
            done.signal()
        }.resume()
        done.wait()
        if let error = box.error { throw error }
        return box.value!
    }

    /// A sign-in opens a server-side session with a random id: the cookie
    /// is not the token, works for pages only, and logout revokes it; forms
    /// posted from another site are refused.
    func testASignInIsASessionThatLogoutEnds() throws {
        let registry = try RegistryProcess()
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        let login = try http(registry.url + "/ui/login", "POST", headers: form, body: "token=s3cret-view&next=/ui/shop")
        XCTAssertEqual(login.status, 303)
        let cookie = try XCTUnwrap(login.headers["set-cookie"])
        let id = String(cookie.dropFirst("strata_session=".count).prefix { $0 != ";" })
        XCTAssertEqual(cookie, "strata_session=\(id); Path=/ui; HttpOnly; SameSite=Lax; Max-Age=43200")
        XCTAssertEqual(id.count, 64)
        XCTAssertFalse(cookie.contains("s3cret"), "the cookie is not the token")
        let session = ["Cookie": "strata_session=\(id)"]
        XCTAssertEqual(try http(registry.url + "/ui/shop", headers: session).status, 200)
        XCTAssertEqual(try http(registry.url + "/v1/projects/shop/events", headers: ["Authorization": "Bearer \(id)"]).status, 401, "a session id is no API token")
        // Another site's page cannot sign the reader out, nor sign anyone in.
        let elsewhere = form.merging(session) { $1 }.merging(["Origin": "https://evil.example"]) { $1 }
        let crossOut = try http(registry.url + "/ui/logout", "POST", headers: elsewhere)
        XCTAssertEqual(crossOut.status, 403)
        XCTAssertTrue(crossOut.body.contains("this form was sent from another site&#39;s page"), crossOut.body)
        XCTAssertEqual(try http(registry.url + "/ui/shop", headers: session).status, 200, "still signed in")
        let crossIn = try http(registry.url + "/ui/login", "POST", headers: form.merging(["Sec-Fetch-Site": "cross-site"]) { $1 }, body: "token=s3cret-view")
        XCTAssertEqual(crossIn.status, 403)
        XCTAssertNil(crossIn.headers["set-cookie"])
        // Logout from the registry's own page ends the session on the server.
        let out = try http(registry.url + "/ui/logout", "POST", headers: session.merging(["Origin": registry.url]) { $1 })
        XCTAssertEqual(out.status, 303)
        let after = try http(registry.url + "/ui/shop", headers: session)
        XCTAssertEqual(after.status, 401, "the captured cookie stopped working")
        XCTAssertTrue(after.body.contains("The session has ended; sign in again."), after.body)
    }

    /// Unknown tokens from one client: after ten, the client waits, and
    /// twice as long after each further one; every attempt in the wait is
    /// 429 (even a right token), on the API and the login form alike.
    func testFailedAuthenticationBacksOff() throws {
        let registry = try RegistryProcess()
        let events = registry.url + "/v1/projects/shop/events"
        for n in 1...11 {
            XCTAssertEqual(try http(events, headers: ["Authorization": "Bearer guess-\(n)"]).status, 401, "attempt \(n)")
        }
        let locked = try http(events, headers: ["Authorization": "Bearer s3cret-view"])
        XCTAssertEqual(locked.status, 429)
        XCTAssertEqual(locked.headers["retry-after"], "1")
        XCTAssertTrue(locked.body.contains(#""code":"auth.backoff""#), locked.body)
        let form = try http(registry.url + "/ui/login", "POST", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: "token=s3cret-view")
        XCTAssertEqual(form.status, 429)
        XCTAssertNil(form.headers["set-cookie"])
        usleep(1_200_000)
        XCTAssertEqual(try http(events, headers: ["Authorization": "Bearer s3cret-view"]).status, 200, "the wait is over")
        XCTAssertEqual(try http(events, headers: ["Authorization": "Bearer guess-12"]).status, 401)
        let longer = try http(events, headers: ["Authorization": "Bearer s3cret-view"])
        XCTAssertEqual(longer.headers["retry-after"], "2", "twice as long")
    }

    /// A push that takes seconds to check (3,000 events) holds up only
    /// pushes to its own project: a pull of another project is answered
    /// while it runs, and so is a push to another project.
    func testALongPushToOneProjectHoldsUpNoOther() throws {
        let registry = try RegistryProcess(extraArguments: ["--project", "lab"])
        let url = registry.url
        @Sendable func send(_ method: String, _ path: String, _ body: JSON? = nil) throws -> Int {
            let request = HTTPRequest(method: method, url: url + path, headers: ["Content-Type": "application/json", "Authorization": "Bearer s3cret-ana"],
                                      body: body.map { Array($0.canonicalString.utf8) } ?? [])
            let transport = CurlTransport()
            let response: HTTPResponse = try transport.send(request)
            return response.status
        }
        XCTAssertEqual(try send("POST", "/v1/projects/lab/events", PushRequest(base: nil, events: eventChain(1, tag: "lab")).json), 200)
        final class Finish: @unchecked Sendable { var status = 0; var at = Date.distantFuture }
        let big = Finish(), done = DispatchSemaphore(value: 0)
        let body = PushRequest(base: nil, events: eventChain(3000, tag: "big")).json
        Thread {
            big.status = (try? send("POST", "/v1/projects/shop/events", body)) ?? -1
            big.at = Date()
            done.signal()
        }.start()
        usleep(500_000)
        XCTAssertEqual(try send("GET", "/v1/projects/lab/events"), 200)
        let pulled = Date()
        let lab = eventChain(1, tag: "lab")[0]
        XCTAssertEqual(try send("POST", "/v1/projects/lab/events", PushRequest(base: lab.id, events: eventChain(1, from: lab.id, tag: "lab2")).json), 200)
        let pushed = Date()
        done.wait()
        XCTAssertEqual(big.status, 200)
        XCTAssertLessThan(pulled, big.at, "the pull of lab was answered while the push to shop was still being checked")
        XCTAssertLessThan(pushed, big.at, "and so was a push to lab")
    }

    /// Past --max-connections the registry accepts no more sockets until
    /// one closes: a request on a new one waits, and is answered then.
    func testConnectionsAreCapped() throws {
        let registry = try RegistryProcess(extraArguments: ["--max-connections", "2", "--idle-timeout", "30"])
        func connect() -> Int32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(registry.port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            return fd
        }
        func ask(_ fd: Int32, waiting seconds: Int) -> String {
            var timeout = timeval(tv_sec: seconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let request = "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            _ = send(fd, request, request.utf8.count, Int32(MSG_NOSIGNAL))
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
        }
        let held = [connect(), connect()]
        usleep(300_000)
        let third = connect()  // the kernel completes the handshake; the server does not accept it yet
        XCTAssertEqual(ask(third, waiting: 1), "", "not answered while two sockets are held")
        close(held[0])
        XCTAssertTrue(ask(third, waiting: 10).hasPrefix("HTTP/1.1 200 OK"), "answered once one closed")
        for fd in [held[1], third] { close(fd) }
    }

    /// Sockets that send nothing, or a request a byte at a time, are closed
    /// after the idle timeout; the registry goes on answering.
    func testIdleAndSlowSocketsAreClosed() throws {
        let registry = try RegistryProcess(extraArguments: ["--idle-timeout", "1"])
        func connect() throws -> Int32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(registry.port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            XCTAssertEqual(rc, 0)
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            return fd
        }
        let idle = (0..<50).map { _ in (try? connect()) ?? -1 }
        let slow = try connect()
        let started = Date()
        for _ in 0..<3 { _ = send(slow, "G", 1, Int32(MSG_NOSIGNAL)); usleep(300_000) }
        /// Reads until the server closes (0) or the receive limit passes (-1).
        func drained(_ fd: Int32) -> (Int, String) {
            var buffer = [UInt8](repeating: 0, count: 4096), got: [UInt8] = []
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { return (n, String(decoding: got, as: UTF8.self)) }
                got += buffer[0..<n]
            }
        }
        XCTAssertEqual(drained(idle[0]).0, 0, "the server closed the idle socket")
        let (end, answer) = drained(slow)
        XCTAssertEqual(end, 0, "and the one that never finished its request line (it answered: \(answer.prefix(40)))")
        XCTAssertLessThan(Date().timeIntervalSince(started), 9, "closed by the timeout, not by the 10 s receive limit")
        for fd in idle + [slow] { close(fd) }
        let alpha = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
        try alpha.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
        try alpha.ok("revision", "--autogenerate", "-m", "v1")
        try alpha.ok("push")
    }
}
