import Foundation
import Hummingbird
import Logging
import StrataCore
import StrataSQLite
import StrataSync

/// Serialises access to the storage (one SQLite connection per project log)
/// and answers in JSON.
public actor RegistryService {
    let store: RegistryStore
    let tokens: TokenTable

    public init(store: RegistryStore, tokens: TokenTable) {
        self.store = store
        self.tokens = tokens
    }

    func withStore<T: Sendable>(_ body: (RegistryStore) throws -> T) throws -> T { try body(store) }

    nonisolated func identify(_ authorization: String?, needs role: Identity.Role) throws -> Identity {
        if tokens.isEmpty {
            // With no tokens file the registry is read-only and open.
            guard role == .read else {
                throw HTTPFailure(.unauthorized, "this registry has no tokens: writes need `strata registry serve --tokens FILE`")
            }
            return Identity(name: "anonymous", role: .read)
        }
        guard authorization != nil else { throw HTTPFailure(.unauthorized, "a bearer token is required (Authorization: Bearer ...)") }
        guard let who = tokens.identify(authorization: authorization) else { throw HTTPFailure(.unauthorized, "unknown token") }
        guard who.role >= role else {
            throw HTTPFailure(.forbidden, "\(who.name) has the \(who.role) role; this needs \(role)")
        }
        return who
    }
}

/// An answer other than 200, with its JSON body.
struct HTTPFailure: Error {
    let status: HTTPResponse.Status
    let body: JSON
    init(_ status: HTTPResponse.Status, _ message: String, extra: [String: JSON] = [:]) {
        self.status = status
        var fields = extra
        fields["error"] = .string(message)
        body = .object(fields)
    }
}

public struct RegistryOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Requests larger than this are refused with 413.
    public var maxBodyBytes = 32 << 20
    public init() {}
}

/// The registry's clock: UTC, milliseconds.
public func registryTimestamp() -> String { Timestamp.iso8601(Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))) }

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
        case .unknownProject: return HTTPFailure(.notFound, e.description)
        case .projectExists: return HTTPFailure(.conflict, e.description)
        case .conflict(let head):
            return HTTPFailure(.conflict, e.description, extra: ["head": head.map(JSON.string) ?? .null])
        case .invalid: return HTTPFailure(.badRequest, e.description)
        case .notFound: return HTTPFailure(.notFound, e.description)
        }
    case let e as EventDecodingError: return HTTPFailure(.badRequest, "invalid event: \(e.message)")
    default: return HTTPFailure(.internalServerError, "internal error: \(error)")
    }
}

/// Runs a handler body, turning every error into a JSON answer.
func answer(_ body: () async throws -> Response) async -> Response {
    do { return try await body() } catch {
        let f = failure(for: error)
        return json(f.status, f.body)
    }
}

func readJSON(_ request: inout Request, limit: Int) async throws -> JSON {
    let buffer: ByteBuffer
    do { buffer = try await request.collectBody(upTo: limit) } catch {
        throw HTTPFailure(.contentTooLarge, "the request body is larger than \(limit) bytes")
    }
    do { return try JSON.parse(Array(buffer.readableBytesView)) } catch {
        throw HTTPFailure(.badRequest, "malformed JSON: \(error)")
    }
}

/// The registry's routes (docs/openapi.yaml). Tests and `registry serve` both build it here.
public func buildRouter(service: RegistryService, options: RegistryOptions) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: LogRequestsMiddleware(.info))
    let limit = options.maxBodyBytes

    router.get("/v1/health") { _, _ in json(.ok, .object(["ok": .bool(true), "sqlite": .string(Connection.libraryVersion)])) }

    router.put("/v1/projects/:project") { request, context in
        await answer {
            let project = try context.parameters.require("project")
            let who = try service.identify(request.headers[.authorization], needs: .admin)
            try await service.withStore { try $0.createProject(project, by: who.name, at: now()) }
            return json(.created, .object(["project": .string(project)]))
        }
    }

    router.get("/v1/projects/:project/events") { request, context in
        await answer {
            let project = try context.parameters.require("project")
            _ = try service.identify(request.headers[.authorization], needs: .read)
            let after = request.uri.queryParameters["after"].map(String.init)
            let max = request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 1000
            guard (1...5000).contains(max) else { throw HTTPFailure(.badRequest, "limit must be between 1 and 5000") }
            let page = try await service.withStore { store -> JSON in
                let (events, more) = try store.events(of: project, after: after, limit: max)
                return .object(["events": .array(events.map(\.json)), "more": .bool(more),
                                "head": try store.head(of: project).map(JSON.string) ?? .null])
            }
            return json(.ok, page)
        }
    }

    router.post("/v1/projects/:project/events") { request, context in
        await answer {
            var request = request
            let project = try context.parameters.require("project")
            let who = try service.identify(request.headers[.authorization], needs: .push)
            let body = try await readJSON(&request, limit: limit)
            guard case .object = body, let items = body["events"]?.arrayValue, !items.isEmpty else {
                throw HTTPFailure(.badRequest, "expected {\"base\": ID or null, \"events\": [EVENT, ...]} with at least one event")
            }
            let base: String?
            switch body["base"] {
            case .string(let b)?: base = b
            case .null?, nil: base = nil
            default: throw HTTPFailure(.badRequest, "base must be an event id or null")
            }
            // Re-validate: recompute every id from the event's own fields.
            let events = try items.enumerated().map { n, item -> Event in
                guard case .object(var fields) = item, let claimed = fields.removeValue(forKey: "id")?.stringValue else {
                    throw HTTPFailure(.badRequest, "event \(n): expected an object with an id")
                }
                let event: Event
                do { event = try Event(body: .object(fields)) } catch {
                    throw HTTPFailure(.badRequest, "event \(n) (\(claimed.prefix(12))): \(error)")
                }
                guard event.id == claimed else {
                    throw HTTPFailure(.badRequest, "event \(n): its id \(claimed.prefix(12)) is not the SHA-256 of its contents (\(event.id.prefix(12)))")
                }
                return event
            }
            let time = now()
            let head = try await service.withStore { try $0.push(events, to: project, base: base, by: who.name, at: time) }
            return json(.ok, .object(["head": .string(head), "accepted": .int(Int64(events.count)),
                                      "pushed_by": .string(who.name), "pushed_at": .string(time)]))
        }
    }

    router.post("/v1/projects/:project/reports") { request, context in
        await answer {
            var request = request
            let project = try context.parameters.require("project")
            let who = try service.identify(request.headers[.authorization], needs: .push)
            let report: Report
            do { report = try Report(json: try await readJSON(&request, limit: limit)) } catch let e as EventDecodingError {
                throw HTTPFailure(.badRequest, e.message)
            }
            try await service.withStore { try $0.record(report, of: project, by: who.name, at: now()) }
            return json(.ok, .object(["ok": .bool(true)]))
        }
    }

    router.get("/v1/projects/:project/fleet") { request, context in
        await answer {
            let project = try context.parameters.require("project")
            _ = try service.identify(request.headers[.authorization], needs: .read)
            return json(.ok, try await service.withStore { store -> JSON in
                let targets = try store.targets(of: project)
                let byEnv = Dictionary(uniqueKeysWithValues: targets.map { ($0.name, $0.revision) })
                return .object([
                    "project": .string(project),
                    "head": try store.head(of: project).map(JSON.string) ?? .null,
                    "environments": .array(targets.map {
                        .object(["name": .string($0.name), "revision": .string($0.revision), "set_by": .string($0.setBy), "set_at": .string($0.setAt)])
                    }),
                    "databases": .array(try store.reports(of: project).map { r in
                        var fields: [String: JSON] = ["node": .string(r.report.node), "database": .string(r.report.database),
                                                      "revision": .string(r.report.revision), "direction": .string(r.report.direction),
                                                      "at": .string(r.report.at), "reported_by": .string(r.reportedBy),
                                                      "reported_at": .string(r.reportedAt),
                                                      "environment": r.report.environment.map(JSON.string) ?? .null]
                        if let env = r.report.environment, let target = byEnv[env] {
                            fields["target"] = .string(target)
                            fields["behind"] = .bool(target != r.report.revision)
                        } else {
                            fields["target"] = .null
                            fields["behind"] = .null
                        }
                        return .object(fields)
                    }),
                ])
            })
        }
    }

    router.put("/v1/projects/:project/environments/:environment") { request, context in
        await answer {
            var request = request
            let project = try context.parameters.require("project")
            let environment = try context.parameters.require("environment")
            let who = try service.identify(request.headers[.authorization], needs: .admin)
            guard let revision = try await readJSON(&request, limit: limit)["revision"]?.stringValue else {
                throw HTTPFailure(.badRequest, "expected {\"revision\": ID}")
            }
            try await service.withStore { try $0.setTarget(revision, environment: environment, of: project, by: who.name, at: now()) }
            return json(.ok, .object(["environment": .string(environment), "revision": .string(revision), "set_by": .string(who.name)]))
        }
    }

    router.get("/v1/projects/:project/environments/:environment") { request, context in
        await answer {
            let project = try context.parameters.require("project")
            let environment = try context.parameters.require("environment")
            _ = try service.identify(request.headers[.authorization], needs: .read)
            let target = try await service.withStore { try $0.targets(of: project).first { $0.name == environment } }
            guard let target else { throw HTTPFailure(.notFound, "environment \(environment) has no target; an admin sets one with `strata promote REV --env \(environment)`") }
            return json(.ok, .object(["environment": .string(environment), "revision": .string(target.revision),
                                      "set_by": .string(target.setBy), "set_at": .string(target.setAt)]))
        }
    }

    router.get("/v1/projects/:project/audit") { request, context in
        await answer {
            let project = try context.parameters.require("project")
            _ = try service.identify(request.headers[.authorization], needs: .read)
            return json(.ok, .object(["records": .array(try await service.withStore { store in
                try store.audit(of: project).map {
                    .object(["seq": .int($0.seq), "action": .string($0.action), "identity": .string($0.identity),
                             "at": .string($0.at), "detail": $0.detail])
                }
            })]))
        }
    }
    return router
}

/// The registry application; `onRunning` receives the bound port (the real
/// one when `options.port` is 0).
public func buildApplication(service: RegistryService, options: RegistryOptions, logger: Logger,
                             onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
    Application(
        router: buildRouter(service: service, options: options),
        configuration: .init(address: .hostname(options.host, port: options.port), serverName: "strata-registry"),
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? options.port) },
        logger: logger)
}
