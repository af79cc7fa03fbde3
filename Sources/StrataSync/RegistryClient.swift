import Foundation
import StrataCore
import StrataWire

/// Why a registry call failed; each declares its exit code (docs/CONTRACT.md).
package enum SyncError: Error, CustomStringConvertible, Sendable {
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
    /// The registry's status, its message and its error code (`pull.unknown_after`).
    case rejected(Int, String, code: String)
    /// The answer could not be read.
    case badResponse(String)
    /// No registry is configured.
    case notConfigured

    package var description: String {
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
        case let .rejected(status, message, _):
            return "the registry rejected the request (\(status)): \(message)"
        case let .badResponse(message):
            return "the registry's answer could not be read: \(message)"
        case .notConfigured:
            return "no registry is configured: add `registry = \"http://HOST:PORT\"` to strata.toml (or `strata init --registry URL`)"
        }
    }
}

/// The registry's HTTP API (docs/openapi.yaml), over any `Transport`.
package final class RegistryClient {
    package let baseURL: String
    package let project: String
    let token: String?
    let transport: Transport
    /// Waits before each retry of a connection error or a 5xx answer.
    package var backoff: [Double] = [0.1, 0.3, 0.9]

    package init(baseURL: String, project: String, token: String?, transport: Transport = CurlTransport()) {
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
            let error = ErrorBody(json: json)
            let message = error?.message ?? String(decoding: response.body.prefix(300), as: UTF8.self)
            switch response.status {
            case 200..<300:
                guard let json else { throw SyncError.badResponse("not JSON") }
                return json
            case 401, 403: throw SyncError.refused(response.status, message)
            case 409: throw SyncError.conflict(head: error?.head ?? nil, message)
            case 400..<500: throw SyncError.rejected(response.status, message, code: error?.code ?? "")
            default: throw SyncError.unreachable(baseURL, "HTTP \(response.status): \(message)")
            }
        }
    }

    // MARK: - Events

    /// One page of events appended after `after` (from the start when nil).
    package func events(after: String?, limit: Int = 1000) throws -> EventsPage {
        var url = "\(projectURL)/events?limit=\(limit)"
        if let after { url += "&after=\(after)" }
        return try decoded(try call("GET", url), as: EventsPage.init(json:))
    }

    /// Pushes events that build on `base` (the registry's head as this node
    /// last saw it). Returns the new head and who the registry says pushed.
    package func push(_ events: [Event], base: String?) throws -> PushResponse {
        try decoded(try call("POST", "\(projectURL)/events", body: PushRequest(base: base, events: events).json), as: PushResponse.init(json:))
    }

    // MARK: - Fleet

    package func report(_ report: Report) throws { _ = try call("POST", "\(projectURL)/reports", body: report.json) }

    /// Several reports in one request (at most `Report.pageSize`).
    package func report(_ reports: [Report]) throws {
        if reports.count == 1 { return try report(reports[0]) }
        _ = try call("POST", "\(projectURL)/reports", body: Report.batchJSON(reports))
    }

    package func fleet() throws -> Fleet { try decoded(try call("GET", "\(projectURL)/fleet"), as: Fleet.init(json:)) }

    /// Sets the target, or (with `rollout`) starts rolling it out in waves.
    package func setTarget(environment: String, revision: String, rollout: RolloutRequest? = nil) throws -> (target: EnvironmentTarget, rollout: Rollout?) {
        let answer = try call("PUT", environmentURL(environment), body: TargetRequest(revision: revision, rollout: rollout).json)
        return try decoded(answer, as: { json in
            (try EnvironmentTarget(json: json, nameKey: "environment"), try json["rollout"].flatMap { $0 == .null ? nil : try Rollout(json: $0) })
        })
    }

    /// The environment's target revision (the registry answers 404 when
    /// none is set); with `node`, that node's, which a rollout decides.
    package func target(environment: String, node: String? = nil) throws -> String {
        let query = node.map { "?node=\(RegistryClient.escape($0))" } ?? ""
        return try decoded(try call("GET", environmentURL(environment) + query), as: { try EnvironmentTarget(json: $0, nameKey: "environment") }).revision
    }

    /// The environment's rollout, with how its open waves' databases stand.
    package func rollout(environment: String) throws -> RolloutStatus {
        try decoded(try call("GET", "\(environmentURL(environment))/rollout"), as: RolloutStatus.init(json:))
    }

    /// `pause`, `resume` or `abort` the environment's rollout.
    package func rollout(environment: String, action: String, maxFailures: Int? = nil) throws -> RolloutStatus {
        var body: [String: JSON] = ["action": .string(action)]
        if let maxFailures { body["max_failures"] = .int(Int64(maxFailures)) }
        return try decoded(try call("POST", "\(environmentURL(environment))/rollout", body: .object(body)), as: RolloutStatus.init(json:))
    }

    /// The environment's target once it is not `known` (at once when
    /// `known` is nil or already stale), else the same one after `wait`
    /// seconds: the registry holds the request open meanwhile.
    package func watch(environment: String, node: String?, known: String?, wait: Int) throws -> EnvironmentTarget {
        let query = "wait=\(wait)" + (known.map { "&revision=\($0)" } ?? "") + (node.map { "&node=\(RegistryClient.escape($0))" } ?? "")
        return try decoded(try call("GET", "\(environmentURL(environment))/watch?\(query)"), as: { try EnvironmentTarget(json: $0, nameKey: "environment") })
    }

    package func audit() throws -> AuditTrail { try decoded(try call("GET", "\(projectURL)/audit"), as: AuditTrail.init(json:)) }

    func environmentURL(_ environment: String) -> String { "\(projectURL)/environments/\(RegistryClient.escape(environment))" }

    /// A 2xx answer whose body does not have its documented shape is a bad response, not bad input.
    func decoded<T>(_ json: JSON, as read: (JSON) throws -> T) throws -> T {
        do { return try read(json) } catch { throw SyncError.badResponse("\(error)") }
    }

    package func createProject() throws { _ = try call("PUT", projectURL, body: .object([:])) }
}

extension SyncError: StrataError {
    package var exitStatus: ExitStatus {
        switch self {
        case .conflict, .diverged: return .conflict
        case .unreachable, .refused, .badResponse: return .unreachable
        case .rejected, .notConfigured: return .usage
        }
    }

    package var errorCode: String {
        switch self {
        case .unreachable: return "registry.unreachable"
        case .refused: return "registry.refused"
        case .conflict: return "registry.conflict"
        case .diverged: return "sync.diverged"
        case .rejected: return "registry.rejected"
        case .badResponse: return "registry.bad_response"
        case .notConfigured: return "registry.not_configured"
        }
    }
}
