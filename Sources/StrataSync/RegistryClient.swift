import Foundation
import StrataCore

/// Why a registry call failed; the CLI maps each to DESIGN.md's exit code.
public enum SyncError: Error, CustomStringConvertible, Sendable {
    /// The registry could not be reached (after retries). Exit 4.
    case unreachable(String, String)
    /// The registry answered 401/403. Exit 4.
    case refused(Int, String)
    /// A push built on a stale head; the registry's head is given. Exit 3.
    case conflict(head: String?, String)
    /// Unpushed local events neither rebase onto nor merge with the
    /// registry's head: they change the same objects differently. Exit 3.
    case diverged(local: [String], head: String?, reason: String)
    /// The registry refused the request's content (4xx). Exit 2.
    case rejected(Int, String)
    /// The answer could not be read.
    case badResponse(String)
    /// No registry is configured.
    case notConfigured

    public var description: String {
        switch self {
        case let .unreachable(url, reason):
            return "the registry at \(url) is unreachable (\(reason)); check that it runs and the URL in strata.toml, then run the command again"
        case let .refused(status, message):
            return "the registry refused the request (\(status)): \(message); check STRATA_TOKEN (or token_file) and its role"
        case let .conflict(head, message):
            return "\(message) (the registry's head is \(head.map { String($0.prefix(12)) } ?? "base")); run `strata sync` to bring in its events first"
        case let .diverged(local, head, reason):
            let registry = head.map { String($0.prefix(12)) } ?? "base"
            return "your unpushed revision\(local.count == 1 ? "" : "s") (\(local.joined(separator: ", "))) and the registry's head \(registry) "
                + "change the same objects in different ways (\(reason)), so they can be neither rebased nor merged; "
                + "nothing was pushed. \(local.count == 1 ? "It was" : "They were") never published, so edit the models file to the schema you want on top of "
                + "\(registry) (`strata schema --at \(registry)` shows it) and run `strata sync --redo` (with --rename TABLE.OLD=NEW for a "
                + "renamed column, as for `revision`): it replaces \(local.count == 1 ? "it" : "them") with one revision from \(registry) "
                + "to the models file and pushes it"
        case let .rejected(status, message):
            return "the registry rejected the request (\(status)): \(message)"
        case let .badResponse(message):
            return "the registry's answer could not be read: \(message)"
        case .notConfigured:
            return "no registry is configured: add `registry = \"http://HOST:PORT\"` to strata.toml (or `strata init --registry URL`)"
        }
    }
}

/// An event as the registry serves it: the event plus who pushed it, when.
public struct PushedEvent: Sendable {
    public let event: Event
    public let pushedBy: String
    public let pushedAt: String

    public init(event: Event, pushedBy: String, pushedAt: String) {
        self.event = event
        self.pushedBy = pushedBy
        self.pushedAt = pushedAt
    }

    /// The wire form: the event with its id, plus who pushed it and when.
    public var json: JSON {
        guard case .object(var fields) = event.jsonWithID else { return event.jsonWithID }
        fields["pushed_by"] = .string(pushedBy)
        fields["pushed_at"] = .string(pushedAt)
        return .object(fields)
    }
}

/// What a node reports after it migrated a database.
public struct Report: Sendable, Equatable {
    public var node: String
    public var database: String
    public var revision: String
    public var direction: String
    public var at: String
    public var environment: String?

    public init(node: String, database: String, revision: String, direction: String, at: String, environment: String?) {
        self.node = node
        self.database = database
        self.revision = revision
        self.direction = direction
        self.at = at
        self.environment = environment
    }

    public var json: JSON {
        .object(["node": .string(node), "database": .string(database), "revision": .string(revision),
                 "direction": .string(direction), "at": .string(at), "environment": environment.map(JSON.string) ?? .null])
    }

    public init(json: JSON) throws {
        guard let node = json["node"]?.stringValue, let database = json["database"]?.stringValue,
              let revision = json["revision"]?.stringValue, let direction = json["direction"]?.stringValue,
              let at = json["at"]?.stringValue else {
            throw EventDecodingError("a report needs node, database, revision, direction and at (strings)")
        }
        let env = json["environment"]
        guard env == nil || env == .null || env?.stringValue != nil else { throw EventDecodingError("environment must be a string or null") }
        self.init(node: node, database: database, revision: revision, direction: direction, at: at, environment: env?.stringValue)
    }
}

/// The registry's HTTP API (docs/openapi.yaml), over any `Transport`.
public final class RegistryClient {
    public let baseURL: String
    public let project: String
    let token: String?
    let transport: Transport
    /// Waits before each retry of a connection error or a 5xx answer.
    public var backoff: [Double] = [0.1, 0.3, 0.9]

    public init(baseURL: String, project: String, token: String?, transport: Transport = CurlTransport()) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.project = project
        self.token = token
        self.transport = transport
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    var projectURL: String { "\(baseURL)/v1/projects/\(RegistryClient.escape(project))" }

    /// Sends with retries; returns the parsed JSON of a 2xx answer.
    func call(_ method: String, _ url: String, body: JSON? = nil) throws -> JSON {
        var headers = ["Accept": "application/json"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        if body != nil { headers["Content-Type"] = "application/json" }
        let request = HTTPRequest(method: method, url: url, headers: headers, body: body?.canonicalBytes)
        var attempt = 0
        while true {
            let response: HTTPResponse
            do {
                response = try transport.send(request)
            } catch let e as TransportError {
                if attempt < backoff.count {
                    Thread.sleep(forTimeInterval: backoff[attempt])
                    attempt += 1
                    continue
                }
                throw SyncError.unreachable(baseURL, e.message)
            }
            if response.status >= 500 && attempt < backoff.count {
                Thread.sleep(forTimeInterval: backoff[attempt])
                attempt += 1
                continue
            }
            let json = try? JSON.parse(response.body)
            let message = json?["error"]?.stringValue ?? String(decoding: response.body.prefix(300), as: UTF8.self)
            switch response.status {
            case 200..<300:
                guard let json else { throw SyncError.badResponse("not JSON") }
                return json
            case 401, 403: throw SyncError.refused(response.status, message)
            case 409: throw SyncError.conflict(head: json?["head"]?.stringValue, message)
            case 400..<500: throw SyncError.rejected(response.status, message)
            default: throw SyncError.unreachable(baseURL, "HTTP \(response.status): \(message)")
            }
        }
    }

    // MARK: - Events

    /// One page of events appended after `after` (from the start when nil).
    public func events(after: String?, limit: Int = 1000) throws -> (events: [PushedEvent], head: String?, more: Bool) {
        var url = "\(projectURL)/events?limit=\(limit)"
        if let after { url += "&after=\(after)" }
        let json = try call("GET", url)
        guard let items = json["events"]?.arrayValue else { throw SyncError.badResponse("no events array") }
        let events = try items.map { item -> PushedEvent in
            guard case .object(var fields) = item, let id = fields.removeValue(forKey: "id")?.stringValue,
                  let by = fields.removeValue(forKey: "pushed_by")?.stringValue,
                  let at = fields.removeValue(forKey: "pushed_at")?.stringValue else {
                throw SyncError.badResponse("an event lacks id, pushed_by or pushed_at")
            }
            let event = try Event(body: .object(fields))
            guard event.id == id else { throw SyncError.badResponse("event \(id.prefix(12)) does not hash to its id") }
            return PushedEvent(event: event, pushedBy: by, pushedAt: at)
        }
        return (events, json["head"]?.stringValue, json["more"]?.boolValue ?? false)
    }

    /// Pushes events that build on `base` (the registry's head as this node
    /// last saw it). Returns the new head and who the registry says pushed.
    public func push(_ events: [Event], base: String?) throws -> (head: String, pushedBy: String, pushedAt: String) {
        let body = JSON.object(["base": base.map(JSON.string) ?? .null, "events": .array(events.map(\.jsonWithID))])
        let json = try call("POST", "\(projectURL)/events", body: body)
        guard let head = json["head"]?.stringValue, let by = json["pushed_by"]?.stringValue, let at = json["pushed_at"]?.stringValue else {
            throw SyncError.badResponse("a push answer needs head, pushed_by and pushed_at")
        }
        return (head, by, at)
    }

    // MARK: - Fleet

    public func report(_ report: Report) throws { _ = try call("POST", "\(projectURL)/reports", body: report.json) }

    public func fleet() throws -> JSON { try call("GET", "\(projectURL)/fleet") }

    public func setTarget(environment: String, revision: String) throws -> JSON {
        try call("PUT", "\(projectURL)/environments/\(RegistryClient.escape(environment))", body: .object(["revision": .string(revision)]))
    }

    /// The environment's target revision (nil when none is set).
    public func target(environment: String) throws -> String? {
        try call("GET", "\(projectURL)/environments/\(RegistryClient.escape(environment))")["revision"]?.stringValue
    }

    public func audit() throws -> JSON { try call("GET", "\(projectURL)/audit") }

    public func createProject() throws { _ = try call("PUT", projectURL, body: .object([:])) }
}
