import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import StrataCore
import StrataSQLite
import StrataLog
import StrataWire

/// The storage, the tokens and the trusted keys a request is checked
/// against. The store serialises what needs it (see `RegistryStore`).
package actor RegistryService {
    nonisolated let store: any RegistryStore
    let tokens: TokenTable
    let trustedKeys: TrustedKeys?
    nonisolated let metrics = RegistryMetrics()
    /// Wakes the watches of this process when a target changes.
    nonisolated let targetChanges = TargetChanges()

    package init(store: any RegistryStore, tokens: TokenTable, trustedKeys: TrustedKeys? = nil) {
        self.store = store
        self.tokens = tokens
        self.trustedKeys = trustedKeys
    }

    /// Signed-in readers of the pages, and the backoff on unknown tokens.
    nonisolated let sessions = SessionTable()
    nonisolated let backoff = AuthBackoff()

    /// Who the request's bearer token says the caller is, refused (401,
    /// 403, or 429 while its client is backed off) unless it has `role` and
    /// may act on `project`.
    nonisolated func identify(_ request: Request, _ context: RegistryContext, needs role: Identity.Role, project: String) throws -> Identity {
        try authenticate(request.headers[.authorization], client: context.client, needs: role, project: project)
    }

    /// `project` nil: any project (the list of projects shows those the identity may see).
    nonisolated func authenticate(_ authorization: String?, client: String, needs role: Identity.Role, project: String?) throws -> Identity {
        if tokens.isEmpty {
            // With no tokens file the registry is read-only and open.
            guard role == .read else {
                throw HTTPFailure(.unauthorized, "this registry has no tokens: writes need `strata registry serve --tokens FILE`", code: "auth.no_tokens")
            }
            return Identity(name: "anonymous", role: .read)
        }
        guard authorization != nil else { throw HTTPFailure(.unauthorized, "a bearer token is required (Authorization: Bearer ...)", code: "auth.missing") }
        if let wait = backoff.wait(for: client) { throw HTTPFailure.backedOff(wait) }
        guard let who = tokens.identify(authorization: authorization) else {
            backoff.failed(client)
            throw HTTPFailure(.unauthorized, "unknown token", code: "auth.unknown")
        }
        return try authorize(who, needs: role, project: project)
    }

    /// `who` itself, refused (403) unless it has `role` and may act on `project`.
    nonisolated func authorize(_ who: Identity, needs role: Identity.Role, project: String?) throws -> Identity {
        guard who.role >= role else {
            throw HTTPFailure(.forbidden, "\(who.name) has the \(who.role) role; this needs \(role)", code: "auth.role")
        }
        if let project, !who.mayAct(on: project) {
            throw HTTPFailure(.forbidden, "\(who.name)'s token is for \(who.projects!.sorted().joined(separator: ", ")) only, not for project \(project)", code: "auth.project")
        }
        return who
    }
}

/// An answer other than 200, with its JSON body (`ErrorBody`: a message and a stable code).
struct HTTPFailure: Error {
    let status: HTTPResponse.Status
    let body: ErrorBody
    /// Seconds for Retry-After (429, and a store that is down or full).
    var retryAfter: Int?

    static func backedOff(_ seconds: Int) -> HTTPFailure {
        var f = HTTPFailure(.tooManyRequests, "too many unknown tokens from this client; wait \(seconds) s before trying again", code: "auth.backoff")
        f.retryAfter = seconds
        return f
    }

    init(_ status: HTTPResponse.Status, _ message: String, code: String) {
        self.status = status
        body = ErrorBody(message: message, code: code)
    }

    init(_ status: HTTPResponse.Status, _ error: StrataError, head: String?? = nil) {
        self.status = status
        body = ErrorBody(message: error.description, code: error.errorCode, head: head)
    }
}

package struct RegistryOptions: Sendable {
    package var host = "127.0.0.1"
    package var port = 8080
    /// Requests larger than this are refused with 413.
    package var maxBodyBytes = 32 << 20
    /// Pages at /ui need no token.
    package var publicRead = false
    /// A connection that sends nothing for this long is closed (idle
    /// keep-alive sockets, or ones opened and never used).
    package var idleTimeoutSeconds = 30
    /// Connections open at once. Past it the server stops accepting (new
    /// ones wait in the listen queue) until one closes, so sockets held
    /// open cannot exhaust its file descriptors.
    package var maxConnections = 512
    package init() {}
}

/// The registry's clock: UTC, milliseconds.
package func registryTimestamp() -> String { Timestamp.iso8601(Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))) }

func now() -> String { registryTimestamp() }

func json(_ status: HTTPResponse.Status, _ value: JSON) -> Response {
    var buffer = ByteBufferAllocator().buffer(capacity: 256)
    buffer.writeBytes(value.canonicalBytes)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
}

/// Maps storage refusals to HTTP.
func failure(for error: Error) -> HTTPFailure {
    switch error {
    case let f as HTTPFailure: return f
    case let e as RegistryError:
        switch e {
        case .unknownProject, .notFound, .unknownCursor: return HTTPFailure(.notFound, e)
        case .projectExists: return HTTPFailure(.conflict, e)
        case .conflict(let head): return HTTPFailure(.conflict, e, head: .some(head))
        case .invalid: return HTTPFailure(.badRequest, e)
        case .unavailable, .corrupt: return HTTPFailure(.serviceUnavailable, e)
        case .storeFailed: return HTTPFailure(.internalServerError, e)
        case .storeFull: return HTTPFailure(HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), e)
        }
    case let e as WireError: return HTTPFailure(.badRequest, e)
    case let e as EventDecodingError: return HTTPFailure(.badRequest, "invalid event: \(e.message)", code: e.errorCode)
    // A bad signature is refused as a forgery would be; a missing or untrusted one as a lack of permission.
    case let e as SignatureRefusal: return HTTPFailure(.forbidden, e.message, code: e.code)
    case let e as UnsafeFragment: return HTTPFailure(.badRequest, e)
    case let e as SQLiteError where e.isFull: return failure(for: RegistryError.storeFull(e.message))
    case let e as LogError where e.kind == .full: return failure(for: RegistryError.storeFull(e.message))
    default: return HTTPFailure(.internalServerError, "internal error: \(error)", code: "internal")
    }
}

/// Runs a handler body, turning every error into a JSON answer.
func answer(_ body: () async throws -> Response) async -> Response {
    do { return try await body() } catch {
        let f = failure(for: error)
        var response = json(f.status, f.body.json)
        if let seconds = f.retryAfter ?? (f.status == .serviceUnavailable ? 2 : f.status.code == 507 ? 60 : nil) {
            response.headers[.retryAfter] = String(seconds)
        }
        return response
    }
}

func readJSON(_ request: inout Request, limit: Int) async throws -> JSON {
    try parseBody(try await collectBody(&request, limit: limit))
}

/// The body as JSON, or nil when the request has none (only whitespace).
func readOptionalJSON(_ request: inout Request, limit: Int) async throws -> JSON? {
    let bytes = try await collectBody(&request, limit: limit)
    guard !bytes.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) else { return nil }
    return try parseBody(bytes)
}

func collectBody(_ request: inout Request, limit: Int) async throws -> [UInt8] {
    do { return Array(try await request.collectBody(upTo: limit).readableBytesView) } catch {
        throw HTTPFailure(.contentTooLarge, "the request body is larger than \(limit) bytes", code: "request.too_large")
    }
}

/// Any valid JSON: a fraction in a field the registry does not read is no
/// reason to refuse a body (events refuse one when they are decoded).
func parseBody(_ bytes: [UInt8]) throws -> JSON {
    do { return try JSON.parse(bytes, allowingFractions: true) } catch {
        throw HTTPFailure(.badRequest, "malformed JSON: \(error)", code: "json.malformed")
    }
}

/// The project named in the path, when its name is allowed (`Names`).
func projectName(_ context: RegistryContext) throws -> String {
    try Names.check(try context.parameters.require("project"), "project")
}

/// The `:environment` of a route under `/environments/`.
func environmentName(_ context: RegistryContext) throws -> String {
    try Names.check(try context.parameters.require("environment"), "environment")
}

/// `?node=N`: whose target a request asks for (a rollout decides it).
func nodeParameter(_ request: Request) throws -> String? {
    try request.uri.queryParameters["node"].map { try Names.check(String($0), "node") }
}

/// Any method a route does not declare, even one HTTP does not name,
/// answers 405 with the ones it does (the router alone answers 404, as if
/// the path did not exist). HEAD goes on to the router.
struct DeclaredMethodsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each route's path segments (`:name` matches any one) and methods.
    let routes: [(segments: [Substring], allowed: [String])]

    init(_ routes: [(String, [String])]) {
        self.routes = routes.map { ($0.0.split(separator: "/"), $0.1) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path.split(separator: "/")
        let method = request.method.rawValue
        guard method != "HEAD",
              let route = routes.first(where: { r in r.segments.count == path.count && zip(r.segments, path).allSatisfy { $0.hasPrefix(":") || $0 == $1 } }),
              !route.allowed.contains(method) else {
            return try await next(request, context)
        }
        let allow = route.allowed.joined(separator: ", ")
        var response = json(.methodNotAllowed, HTTPFailure(.methodNotAllowed, "\(method) is not allowed here; use \(allow)",
                                                          code: "request.method_not_allowed").body.json)
        response.headers[.allow] = allow
        return response
    }
}

/// The registry's routes (docs/openapi.yaml). Tests and `registry serve` both build it here.
package func buildRouter(service: RegistryService, options: RegistryOptions) -> Router<RegistryContext> {
    let router = Router(context: RegistryContext.self)
    router.add(middleware: LogRequestsMiddleware(.info))
    router.add(middleware: MetricsMiddleware(metrics: service.metrics))
    router.add(middleware: DeclaredMethodsMiddleware([
        ("/metrics", ["GET"]), ("/v1/health", ["GET"]), ("/v1/projects/:project", ["PUT"]), ("/v1/projects/:project/events", ["GET", "POST"]),
        ("/v1/projects/:project/reports", ["POST"]), ("/v1/projects/:project/fleet", ["GET"]),
        ("/v1/projects/:project/environments/:environment", ["GET", "PUT"]),
        ("/v1/projects/:project/environments/:environment/watch", ["GET"]), ("/v1/projects/:project/environments/:environment/rollout", ["GET", "POST"]),
        ("/v1/projects/:project/audit", ["GET"]),
        ("/ui", ["GET"]), ("/ui/login", ["GET", "POST"]), ("/ui/logout", ["POST"]), ("/ui/:project", ["GET"]),
        ("/ui/:project/events/:id", ["GET"]), ("/ui/:project/schema", ["GET"]), ("/ui/:project/fleet", ["GET"]), ("/ui/:project/audit", ["GET"]),
    ]))
    let limit = options.maxBodyBytes

    // For Prometheus: no token (it says how many requests, not what they held).
    router.get("/metrics") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: service.metrics.text)))
    }

    Pages(service: service, options: options).add(to: router)

    router.get("/v1/health") { _, _ in json(.ok, .object(["ok": .bool(true), "sqlite": .string(Connection.libraryVersion)])) }

    router.put("/v1/projects/:project") { request, context in
        await answer {
            let project = try projectName(context)
            let who = try service.identify(request, context, needs: .admin, project: project)
            // The body is optional; when there is one it is an object (nothing in it is read yet).
            var request = request
            if let body = try await readOptionalJSON(&request, limit: limit), body.objectValue == nil {
                throw HTTPFailure(.badRequest, "the body of a project creation is a JSON object (or nothing)", code: "request.invalid")
            }
            try await service.store.createProject(project, by: who.name, at: now())
            return json(.created, .object(["project": .string(project)]))
        }
    }

    router.get("/v1/projects/:project/events") { request, context in
        await answer {
            let project = try projectName(context)
            _ = try service.identify(request, context, needs: .read, project: project)
            let after = request.uri.queryParameters["after"].map(String.init)
            if let after, !Event.isID(after) {
                throw HTTPFailure(.badRequest, "after must be an event id (64 lowercase hex digits)", code: "request.invalid")
            }
            let limitText = request.uri.queryParameters["limit"].map(String.init)
            let max = limitText.map { Int($0) ?? 0 } ?? 1000
            guard (1...5000).contains(max) else { throw HTTPFailure(.badRequest, "limit must be an integer between 1 and 5000", code: "request.invalid") }
            let started = ContinuousClock.now
            let store = service.store
            let (events, more): ([PushedEvent], Bool)
            do { (events, more) = try await store.events(of: project, after: after, limit: max) } catch RegistryError.corrupt(let id) {
                service.metrics.corruptEvents.increment()
                throw RegistryError.corrupt(id)
            }
            let remaining = more ? try await store.countAfter(events.last!.event.id, of: project) : 0
            // The registry keeps one line, so its head is the last event appended:
            // on the last page, the page itself says it (a separate read could
            // see a push that landed after the page was read, and name a head
            // the page does not hold).
            let head = more ? try await store.head(of: project) : events.last?.event.id ?? after
            let page = EventsPage(events: events, more: more, head: head, remaining: remaining)
            service.metrics.pullLatency.record(ContinuousClock.now - started)
            return json(.ok, page.json)
        }
    }

    router.post("/v1/projects/:project/events") { request, context in
        await answer {
            var request = request
            let project = try projectName(context)
            let who = try service.identify(request, context, needs: .push, project: project)
            let push = try PushRequest(json: try await readJSON(&request, limit: limit))
            let signers = try service.signers(of: push.events)
            // SQL text in an op is what its place says, checked by SQLite's parser before anything is stored.
            let fragments = try FragmentChecker()
            for e in push.events { try fragments.check(e) }
            let time = now()
            let head = try await service.store.push(push.events, to: project, base: push.base, by: who.name, signers: signers, at: time)
            service.metrics.eventsStored.increment(by: Int64(push.events.count))
            return json(.ok, PushResponse(head: head, accepted: push.events.count, pushedBy: who.name, pushedAt: time).json)
        }
    }

    router.post("/v1/projects/:project/reports") { request, context in
        await answer {
            var request = request
            let project = try projectName(context)
            let who = try service.identify(request, context, needs: .push, project: project)
            let reports = try Report.batch(json: try await readJSON(&request, limit: limit))
            // Only a node itself says where its databases are: another token cannot paint them clean.
            if let other = reports.first(where: { !who.mayReport(for: $0.node) }) {
                throw HTTPFailure(.forbidden, "\(who.name) reports for \(who.reportsFor), not for node \(other.node); node \(other.node) reports with a token of its own name, "
                                  + "or one bound to it in the tokens file (`NAME push SECRET nodes=\(other.node)`); nothing was recorded", code: "auth.node")
            }
            try await service.store.record(reports, of: project, by: who.name, at: now())
            try await service.advanceRollouts(of: project, after: reports)
            return json(.ok, .object(["ok": .bool(true), "recorded": .int(Int64(reports.count))]))
        }
    }

    router.get("/v1/projects/:project/fleet") { request, context in
        await answer {
            let project = try projectName(context)
            _ = try service.identify(request, context, needs: .read, project: project)
            return json(.ok, try await fleet(of: project, in: service.store).json)
        }
    }

    router.put("/v1/projects/:project/environments/:environment") { request, context in
        await answer {
            var request = request
            let project = try projectName(context)
            let environment = try environmentName(context)
            let who = try service.identify(request, context, needs: .admin, project: project)
            let body = try TargetRequest(json: try await readJSON(&request, limit: limit))
            let rollout = try await service.promote(body.revision, environment: environment, of: project, rollout: body.rollout, by: who.name)
            let target = try await service.target(of: project, environment: environment, node: nil)
            var answer = target.json(nameKey: "environment").objectValue ?? [:]
            if let rollout { answer["rollout"] = rollout.json }
            return json(.ok, .object(answer))
        }
    }

    router.get("/v1/projects/:project/environments/:environment") { request, context in
        await answer {
            let project = try projectName(context)
            let environment = try environmentName(context)
            _ = try service.identify(request, context, needs: .read, project: project)
            let node = try nodeParameter(request)
            return json(.ok, try await service.target(of: project, environment: environment, node: node).json(nameKey: "environment"))
        }
    }

    addWatchRoute(to: router, service: service)
    addRolloutRoutes(to: router, service: service, limit: limit)

    router.get("/v1/projects/:project/audit") { request, context in
        await answer {
            let project = try projectName(context)
            _ = try service.identify(request, context, needs: .read, project: project)
            return json(.ok, AuditTrail(records: try await service.store.audit(of: project)).json)
        }
    }
    return router
}

/// The fleet as the API and the pages show it: each database's last report
/// beside its environment's target.
func fleet(of project: String, in store: any RegistryStore) async throws -> Fleet {
    let targets = try await store.targets(of: project)
    let byEnv = Dictionary(uniqueKeysWithValues: targets.map { ($0.name, $0.revision) })
    return Fleet(project: project, head: try await store.head(of: project), environments: targets,
                 databases: try await store.reports(of: project).map {
                     FleetDatabase(report: $0.report, reportedBy: $0.reportedBy, reportedAt: $0.reportedAt,
                                   target: $0.report.environment.flatMap { byEnv[$0] })
                 })
}

/// The registry application; `onRunning` receives the bound port (the real
/// one when `options.port` is 0).
package func buildApplication(service: RegistryService, options: RegistryOptions, logger: Logger,
                             onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
    Application(
        router: buildRouter(service: service, options: options),
        server: .http1(configuration: .init(idleTimeout: .seconds(Int64(options.idleTimeoutSeconds)))),
        configuration: .init(address: .hostname(options.host, port: options.port), serverName: "strata-registry",
                             availableConnectionsDelegate: MaximumAvailableConnections(options.maxConnections)),
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? options.port) },
        logger: logger)
}

/// The store `registry serve --store` names: `postgres://…` (or
/// `postgresql://…`) for PostgreSQL, else a SQLite file (`sqlite:PATH` or a
/// plain path).
package func openRegistryStore(_ spec: String) async throws -> any RegistryStore {
    if spec.hasPrefix("postgres://") || spec.hasPrefix("postgresql://") {
        return try await PostgresRegistryStore(url: spec)
    }
    let path = spec.hasPrefix("sqlite:") ? String(spec.dropFirst("sqlite:".count)) : spec
    guard !path.isEmpty, !path.contains("://") else {
        throw RegistryError.invalid("--store \(spec) is neither a SQLite file nor a postgres:// URL")
    }
    return try SQLiteRegistryStore(path: path)
}

/// `strata registry serve`: opens the store and the tokens, creates the
/// named projects if missing, and serves until SIGINT or SIGTERM.
/// `onListening` receives the bound port once the server accepts requests.
package func serveRegistry(store storeSpec: String, tokensPath: String?, trustedKeysPath: String? = nil, projects: [String], options: RegistryOptions,
                          onListening: @escaping @Sendable (Int) async -> Void) async throws {
    let table = try tokensPath.map { try TokenTable.load(path: $0) } ?? TokenTable(text: "", source: "")
    let trusted = try trustedKeysPath.map { try TrustedKeys.load(path: $0) }
    let store = try await openRegistryStore(storeSpec)
    defer { (store as? PostgresRegistryStore)?.close() }
    for name in projects where !(try await store.hasProject(name)) {
        do { try await store.createProject(name, by: "registry serve --project", at: registryTimestamp()) } catch RegistryError.projectExists {
            // Another registry process on the same store created it first.
        }
    }
    var logger = Logger(label: "strata-registry")
    logger.logLevel = .info
    let app = buildApplication(service: RegistryService(store: store, tokens: table, trustedKeys: trusted), options: options, logger: logger, onRunning: onListening)
    try await app.runService()
}
