import Foundation
import StrataLog
import StrataCore
import StrataStore
import StrataSync
import StrataTestSupport
import XCTest

/// The registry going away, being killed mid-push, and being sent garbage.
final class RegistryFaultTests: XCTestCase {
    func testRegistryDownMidWorkThenBack() throws {
        let registry = try RegistryProcess()
        let alpha = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
        try alpha.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
        try alpha.ok("revision", "--autogenerate", "-m", "v1")
        try alpha.ok("sync")
        try alpha.ok("revision", "-m", "v2", "--sql", "CREATE TABLE posts (id INTEGER PRIMARY KEY);")
        registry.stop()

        let before = try alpha.ids()
        let down = try alpha.run("sync")
        XCTAssertEqual(down.status, 4)
        XCTAssertTrue(down.stderr.hasPrefix("error: the registry at \(registry.url) is unreachable"), down.stderr)
        XCTAssertEqual(try alpha.ids(), before, "local log unharmed")
        try alpha.ok("verify")
        // Migrating still works; the report waits in the outbox.
        let up = try alpha.ok("upgrade", "head")
        XCTAssertTrue(up.stderr.contains("the report for app.db is queued and will be sent by a later command: the registry at \(registry.url) is unreachable"), up.stderr)

        try registry.start() // same store, same port
        try alpha.ok("sync")
        let beta = try CLI.node("beta", registry: registry, token: "s3cret-bo")
        try beta.ok("pull")
        XCTAssertEqual(try beta.ids(), before)
        let fleet = try beta.json("fleet", "--json") as! [String: Any]
        XCTAssertEqual((fleet["databases"] as! [[String: Any]]).first?["revision"] as? String, before[0], "the queued report arrived")
    }

    func testTheRegistryLogsRequestsAndStopsCleanlyOnSIGTERM() throws {
        let registry = try RegistryProcess()
        let node = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
        try node.ok("pull")
        registry.stop()
        let log = try String(contentsOfFile: registry.logPath, encoding: .utf8)
        XCTAssertTrue(log.contains("hb.request.method=GET hb.request.path=/v1/projects/shop/events"), log)
        XCTAssertEqual(registry.process?.terminationReason, .exit)
        XCTAssertEqual(registry.process?.terminationStatus, 0)
    }

    /// https verifies the certificate: a self-signed server is refused (exit
    /// 4) until `ca_file` names its certificate; then the TLS handshake
    /// succeeds and what fails is that `openssl s_server` is no registry.
    func testHTTPSVerifiesTheCertificate() throws {
        let dir = try CLI()
        let openssl = URL(fileURLWithPath: "/usr/bin/openssl")
        let gen = Process()
        gen.executableURL = openssl
        gen.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.path("key.pem"), "-out", dir.path("cert.pem"),
                         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        gen.standardError = FileHandle.nullDevice
        try gen.run()
        gen.waitUntilExit()
        let port = try freeLocalPort()
        let server = Process()
        server.executableURL = openssl
        server.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", dir.path("cert.pem"), "-key", dir.path("key.pem"), "-www", "-quiet"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        try waitUntilListening(on: port)
        let node = try CLI()
        try node.ok("init", "--project", "shop", "--registry", "https://127.0.0.1:\(port)")
        let r = try node.run("pull")
        XCTAssertEqual(r.status, 4)
        XCTAssertTrue(r.stderr.contains("certificate"), r.stderr)

        try node.write("strata.toml", try node.read("strata.toml") + "ca_file = \"\(dir.path("cert.pem"))\"\n")
        let trusted = try node.run("pull")
        XCTAssertEqual(trusted.status, 4)
        XCTAssertFalse(trusted.stderr.contains("certificate"), trusted.stderr)
        XCTAssertTrue(trusted.stderr.contains("the registry's answer could not be read"), trusted.stderr)
    }

    func testKilledDuringALargePushLeavesWholeRequests() throws {
        // A 3000-event push goes in three requests of 1000: kills spread over
        // an unkilled push's span land before, inside and after the requests'
        // write transactions. Each request is all or nothing.
        let chain = eventChain(3000)
        let ids = chain.map(\.id)
        let span: Double = try {
            let registry = try RegistryProcess()
            let alpha = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
            try SQLiteEventLog(path: alpha.path(".strata/log.db")).append(chain, expectedHeads: [])
            let start = Date()
            try alpha.ok("push")
            return Date().timeIntervalSince(start)
        }()
        /// What the registry holds, read through its API (as a pull reads it).
        func stored(_ registry: RegistryProcess) throws -> [String] {
            let client = RegistryClient(baseURL: registry.url, project: "shop", token: "s3cret-bo")
            var seen: [String] = []
            while true {
                let page = try client.events(after: seen.last)
                seen += page.events.map(\.event.id)
                if !page.more { return seen }
            }
        }
        var outcomes: [String: Int] = [:]
        var last: (RegistryProcess, CLI)?
        for (trial, fraction) in [0.15, 0.4, 0.55, 0.7, 0.9].enumerated() {
            let registry = try RegistryProcess()
            let alpha = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
            // 3000 events, written straight into alpha's log (unpushed).
            try SQLiteEventLog(path: alpha.path(".strata/log.db")).append(chain, expectedHeads: [])
            let push = alpha.process(["push"])
            push.standardOutput = FileHandle.nullDevice
            push.standardError = FileHandle.nullDevice
            try push.run()
            usleep(UInt32(span * fraction * 1_000_000))
            registry.kill()
            // A rollback journal left behind means the kill hit the write transaction.
            let midTransaction = FileManager.default.fileExists(atPath: registry.store + "-journal")
            XCTAssertTrue(push.waitForExit(within: CLI.commandLimit), "trial \(trial): the push did not end after its registry was killed")
            if push.isRunning { Foundation.kill(push.processIdentifier, SIGKILL); push.waitUntilExit() }
            try registry.start()
            let visible = try stored(registry)
            XCTAssertTrue([0, 1000, 2000, 3000].contains(visible.count), "trial \(trial): \(visible.count) events visible")
            XCTAssertEqual(visible, Array(ids.prefix(visible.count)), "trial \(trial): whole requests, in order")
            outcomes["\(visible.count) events visible\(midTransaction ? ", killed mid-transaction" : "")", default: 0] += 1
            try alpha.ok("sync") // completes whatever was cut off
            XCTAssertEqual(try stored(registry), ids, "trial \(trial)")
            last = (registry, alpha)
        }
        // A node pulls what the last registry holds after its kill, and it verifies.
        let (registry, _) = try XCTUnwrap(last)
        let beta = try CLI.node("beta", registry: registry, token: "s3cret-bo")
        try beta.ok("pull")
        XCTAssertEqual(try beta.ids().reversed(), ids)
        try beta.ok("verify")
        print("large push kills (unkilled push \(Int(span * 1000)) ms): \(outcomes)")
    }

    /// One libcurl handle, one connection: pushing and then paging through
    /// the log 5 events at a time opens a single TCP connection.
    func testTheClientReusesItsConnection() throws {
        let registry = try RegistryProcess()
        let transport = CurlTransport()
        let client = RegistryClient(baseURL: registry.url, project: "shop", token: "s3cret-ana", transport: transport)
        let events = eventChain(23)
        _ = try client.push(events, base: nil)
        var after: String?
        var pages = 0
        var seen: [String] = []
        while true {
            let page = try client.events(after: after, limit: 5)
            pages += 1
            seen += page.events.map(\.event.id)
            after = page.events.last?.event.id ?? after
            if !page.more { break }
        }
        XCTAssertEqual(seen, events.map(\.id))
        XCTAssertEqual(pages, 5)
        XCTAssertEqual(transport.connectionsOpened, 1, "\(pages + 1) requests")
    }

    /// Raw requests through the real libcurl transport.
    func testBadRequestsAndTokensAreRefusedAndWriteNothing() throws {
        let registry = try RegistryProcess(extraArguments: ["--max-body", "20000"])
        let alpha = try CLI.node("alpha", registry: registry, token: "s3cret-ana")
        try alpha.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
        try alpha.ok("revision", "--autogenerate", "-m", "v1")
        try alpha.ok("push")
        let head = try alpha.ids()[0]
        let transport = CurlTransport()
        func send(_ method: String, _ path: String, token: String? = "s3cret-ana", body: String? = nil) throws -> (Int, String) {
            var headers = ["Content-Type": "application/json"]
            if let token { headers["Authorization"] = "Bearer \(token)" }
            let r = try transport.send(HTTPRequest(method: method, url: registry.url + path, headers: headers, body: body.map { Array($0.utf8) }))
            return (r.status, String(decoding: r.body, as: UTF8.self))
        }
        let good = Event(parents: [head], author: "x", timestamp: 1, message: "m",
                         ops: [.createTable(Table(name: "t", columns: [Column(name: "id")]), indexes: [], triggers: [])])
        let goodBody = JSON.object(["base": .string(head), "events": .array([good.jsonWithID])]).canonicalString
        let auditBefore = try send("GET", "/v1/projects/shop/audit", token: "s3cret-view").1

        var (status, text) = try send("POST", "/v1/projects/shop/events", body: "{not json")
        XCTAssertEqual(status, 400); XCTAssertTrue(text.contains("malformed JSON"), text)
        (status, text) = try send("POST", "/v1/projects/shop/events", body: "{\"base\":null,\"events\":[\"" + String(repeating: "x", count: 30000) + "\"]}")
        XCTAssertEqual(status, 413, text)
        (status, text) = try send("POST", "/v1/projects/nosuch/events", body: goodBody)
        XCTAssertEqual(status, 404); XCTAssertTrue(text.contains("unknown project nosuch"), text)
        (status, _) = try send("POST", "/v1/projects/shop/events", token: nil, body: goodBody)
        XCTAssertEqual(status, 401)
        (status, _) = try send("POST", "/v1/projects/shop/events", token: "wrong", body: goodBody)
        XCTAssertEqual(status, 401)
        (status, text) = try send("POST", "/v1/projects/shop/events", token: "s3cret-view", body: goodBody)
        XCTAssertEqual(status, 403); XCTAssertTrue(text.contains("viewer has the read role"), text)
        (status, _) = try send("PUT", "/v1/projects/shop/environments/prod", body: "{\"revision\":\"\(head)\"}")
        XCTAssertEqual(status, 403)
        // An id that is not the hash of the event.
        let forged = goodBody.replacingOccurrences(of: good.id, with: String(repeating: "a", count: 64))
        (status, text) = try send("POST", "/v1/projects/shop/events", body: forged)
        XCTAssertEqual(status, 400); XCTAssertTrue(text.contains("is not the SHA-256 of its contents"), text)
        // An event whose ops do not fold onto its parent's state.
        let clash = Event(parents: [head], author: "x", timestamp: 1, message: "m",
                          ops: [.createTable(Table(name: "users", columns: [Column(name: "id")]), indexes: [], triggers: [])])
        (status, text) = try send("POST", "/v1/projects/shop/events", body: JSON.object(["base": .string(head), "events": .array([clash.jsonWithID])]).canonicalString)
        XCTAssertEqual(status, 400); XCTAssertTrue(text.contains("the name is taken"), text)
        // A stale base.
        (status, text) = try send("POST", "/v1/projects/shop/events", body: JSON.object(["base": .null, "events": .array([good.jsonWithID])]).canonicalString)
        XCTAssertEqual(status, 409); XCTAssertTrue(text.contains("\"head\":\"\(head)\""), text)

        XCTAssertEqual(try send("GET", "/v1/projects/shop/audit", token: "s3cret-view").1, auditBefore, "nothing written")
        let beta = try CLI.node("beta", registry: registry, token: "s3cret-bo")
        try beta.ok("pull")
        XCTAssertEqual(try beta.ids(), [head])
        (status, _) = try send("POST", "/v1/projects/shop/events", body: goodBody)
        XCTAssertEqual(status, 200, "the same registry still takes a good push")
    }

    /// Every refusal carries a stable `code` beside its message.
    func testErrorBodiesCarryAStableCode() throws {
        let registry = try RegistryProcess()
        let transport = CurlTransport()
        func send(_ method: String, _ path: String, token: String?, _ body: String? = nil) throws -> (Int, [String: Any]) {
            var headers = ["Content-Type": "application/json"]
            if let token { headers["Authorization"] = "Bearer \(token)" }
            let r = try transport.send(HTTPRequest(method: method, url: registry.url + path, headers: headers, body: body.map { Array($0.utf8) }))
            return (r.status, try JSONSerialization.jsonObject(with: Data(r.body)) as! [String: Any])
        }
        let events = eventChain(2)
        let push = { (base: String?, e: Event) in
            "{\"base\":\(base.map { "\"\($0)\"" } ?? "null"),\"events\":[\(e.jsonWithID.canonicalString)]}"
        }
        XCTAssertEqual(try send("POST", "/v1/projects/shop/events", token: "s3cret-ana", push(nil, events[0])).0, 200)
        let cases: [(status: Int, code: String, response: (Int, [String: Any]))] = [
            (401, "auth.missing", try send("GET", "/v1/projects/shop/events", token: nil)),
            (401, "auth.unknown", try send("GET", "/v1/projects/shop/events", token: "nope")),
            (403, "auth.role", try send("PUT", "/v1/projects/other", token: "s3cret-ana", "{}")),
            (404, "project.unknown", try send("GET", "/v1/projects/other/events", token: "s3cret-view")),
            (409, "push.stale_head", try send("POST", "/v1/projects/shop/events", token: "s3cret-ana", push(nil, events[0]))),
            (400, "json.malformed", try send("POST", "/v1/projects/shop/reports", token: "s3cret-ana", "{")),
            (400, "request.invalid", try send("POST", "/v1/projects/shop/reports", token: "s3cret-ana", "{\"node\":\"n\"}")),
        ]
        for c in cases {
            XCTAssertEqual(c.response.0, c.status, "\(c.code): \(c.response.1)")
            XCTAssertEqual(c.response.1["code"] as? String, c.code, "\(c.response.1)")
            XCTAssertNotNil(c.response.1["error"] as? String)
        }
        XCTAssertEqual(cases[4].response.1["head"] as? String, events[0].id, "a stale push is told the registry's head")
    }
}
