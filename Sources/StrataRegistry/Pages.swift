import Foundation
import Hummingbird
import StrataCore
import StrataSQLite
import StrataWire

/// The registry's pages at /ui: server-rendered HTML from `PageTemplates`,
/// no script anywhere. Reading them needs a token with the read role for
/// the project, sent as a bearer token, or a session the login form opens
/// (an HttpOnly, SameSite cookie holding a random id that logout revokes;
/// never the token), unless the registry runs with --public-read.
struct Pages: Sendable {
    let service: RegistryService
    let options: RegistryOptions
    let cache = PageCache()
    static let cookie = "strata_session"
    static let historyPageSize = 200

    // MARK: - Answers

    static func html(_ status: HTTPResponse.Status, _ body: String, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            // No script may run, even if escaping ever failed; nothing is fetched from elsewhere.
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .xContentTypeOptions: "nosniff", .init("Referrer-Policy")!: "same-origin", .cacheControl: "no-store",
        ]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Renders with the nil values left out (Mustache would print "nil",
    /// and a section would count it as present).
    static func render(_ template: String, _ context: [String: Any?]) -> String {
        PageTemplates.library.render(present(context), withTemplate: template) ?? "template \(template) is missing"
    }

    static func present(_ context: [String: Any?]) -> [String: Any] {
        context.compactMapValues { value -> Any? in
            switch value {
            case .none: return nil
            case .some(let v as [[String: Any?]]): return v.map(present)
            case .some(let v as [String: Any?]): return present(v)
            // What users wrote (messages, authors, paths) shows as it is, never reordered by a bidi override.
            case .some(let v as String): return Names.visible(v)
            case .some(let v as [String]): return v.map(Names.visible)
            case .some(let v): return v
            }
        }
    }

    static func problem(_ status: HTTPResponse.Status, _ heading: String, _ message: String, project: String? = nil) -> Response {
        html(status, render("problem", ["title": heading, "heading": heading, "message": message, "project": project]))
    }

    /// A form posted from another site's page.
    static var crossSite: Response {
        problem(.forbidden, "Not allowed", "this form was sent from another site's page; sign in and out on the registry's own pages")
    }

    static func redirect(_ location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: .seeOther, headers: headers)
    }

    // MARK: - Who is reading

    /// The session id a page request's cookie carries.
    static func session(_ request: Request) -> String? {
        for field in request.headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == Pages.cookie { return String(parts[1]) }
            }
        }
        return nil
    }

    /// Who reads (nil: anyone, with --public-read), or the page to show
    /// instead (the login form, or a refusal). `project` nil: the list of
    /// projects, which shows those the reader may see.
    func reader(_ request: Request, _ context: RegistryContext, project: String?) -> Result<Identity?, PageRefusal> {
        if options.publicRead { return .success(nil) }
        let bearer = request.headers[.authorization]
        do {
            if bearer == nil, let id = Pages.session(request) {
                guard let who = service.sessions.identity(of: id) else {
                    return .failure(PageRefusal(response: Pages.loginPage(next: request.uri.path, error: "The session has ended; sign in again.", status: .unauthorized)))
                }
                return .success(try service.authorize(who, needs: .read, project: project))
            }
            return .success(try service.authenticate(bearer, client: context.client, needs: .read, project: project))
        } catch let f as HTTPFailure where f.status == .unauthorized {
            return .failure(PageRefusal(response: Pages.loginPage(next: request.uri.path, error: bearer == nil ? nil : "That token is not known here.", status: .unauthorized)))
        } catch let f as HTTPFailure {
            return .failure(PageRefusal(response: Pages.refusal(f)))
        } catch {
            return .failure(PageRefusal(response: Pages.problem(.internalServerError, "Error", "\(error)")))
        }
    }

    /// A refusal as a page (429 keeps its Retry-After).
    static func refusal(_ f: HTTPFailure) -> Response {
        var response = Pages.problem(f.status, f.status == .tooManyRequests ? "Too many attempts" : "Not allowed", f.body.message, project: nil)
        if let seconds = f.retryAfter { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    struct PageRefusal: Error { let response: Response }

    static func loginPage(next: String, error: String?, status: HTTPResponse.Status) -> Response {
        html(status, render("login", ["title": "Sign in", "next": safeNext(next), "error": error]))
    }

    /// Only a page of this registry may be where the login form leads.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/ui"), !next.hasPrefix("//"), !next.contains("\\") else { return "/ui" }
        return next
    }

    /// `a=1&b=2` as sent by a form.
    static func formFields(_ body: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if let key = parts.first { fields[key] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }

    // MARK: - Context shared by every page

    func base(_ title: String, project: String?, nav: String?, who: Identity?) -> [String: Any?] {
        var context: [String: Any?] = ["title": title]
        if let project { context["project"] = project }
        if let nav { context["nav"] = [nav: true] }
        if let who, !options.publicRead, who.name != "anonymous" { context["signedIn"] = "\(who.name) (\(who.role))" }
        return context
    }

    static func short(_ id: String) -> String { String(id.prefix(12)) }

    /// The environments' rollouts for the fleet page: each wave's nodes with
    /// their databases at the target out of those reported, the failures.
    func rollouts(of project: String, environments: [String]) async throws -> [[String: Any?]] {
        let reports = try await service.store.reports(of: project)
        var out: [[String: Any?]] = []
        for environment in environments {
            guard let r = try await service.rollout(of: project, environment: environment)?.rollout else { continue }
            let progress = r.progress(reports.timed)
            let mine = reports.map(\.report).filter { $0.environment == environment }
            let waves = r.waves.enumerated().map { n, nodes -> [String: Any?] in
                let open = n < r.opened
                let rows = nodes.map { node -> [String: Any?] in
                    let dbs = mine.filter { $0.node == node }
                    let failed = open ? progress.failed.filter { $0.node == node }.count : 0
                    return ["name": node, "atTarget": dbs.filter { $0.revision == r.to && $0.failure == nil }.count, "reported": dbs.count,
                            "failedCount": failed == 0 ? nil : failed]
                }
                let failed = rows.contains { $0["failedCount"] != nil }
                let status = !open ? "waiting" : failed ? "failed" : rows.allSatisfy({ ($0["atTarget"] as? Int) == ($0["reported"] as? Int) }) ? "at the target" : "moving"
                return ["number": n + 1, "percent": r.percents[n], "nodes": rows, "status": status,
                        "kind": status == "failed" ? "bad" : status == "at the target" ? "ok" : status == "moving" ? "warn" : ""]
            }
            out.append(["environment": environment, "state": r.state.rawValue, "project": project, "to": r.to, "toShort": Pages.short(r.to),
                        "fromShort": r.from.map(Pages.short) ?? "base", "opened": r.opened, "waveCount": r.waves.count,
                        "maxFailures": r.maxFailures, "soak": r.soakSeconds, "reason": r.reason, "waves": waves,
                        "failed": progress.failed.map { ["node": $0.node, "database": $0.database, "failure": $0.failure ?? ""] },
                        "hasFailed": !progress.failed.isEmpty,
                        "steps": r.steps.map { ["at": $0.at, "by": $0.by, "action": $0.action, "detail": $0.detail] }])
        }
        return out
    }

    // MARK: - Routes

    func add(to router: Router<RegistryContext>) {
        router.get("/ui") { request, context in await self.page(request, context, project: nil) { who in
            let names = try await self.service.store.projects().filter { who?.mayAct(on: $0) ?? true }
            var context = self.base("Projects", project: nil, nav: nil, who: who)
            context["projects"] = names
            return Pages.html(.ok, Pages.render("projects", context))
        } }

        router.get("/ui/login") { request, _ in
            Pages.loginPage(next: request.uri.queryParameters["next"].map(String.init) ?? "/ui", error: nil, status: .ok)
        }

        router.post("/ui/login") { request, context in
            guard isSameOrigin(request) else { return Pages.crossSite }
            var request = request
            let fields = Pages.formFields((try? await collectBody(&request, limit: 64 << 10)) ?? [])
            let next = Pages.safeNext(fields["next"])
            let token = fields["token"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let who: Identity
            do {
                who = try self.service.authenticate(token.isEmpty ? nil : "Bearer \(token)", client: context.client, needs: .read, project: nil)
            } catch let f as HTTPFailure where f.status == .tooManyRequests {
                return Pages.refusal(f)
            } catch {
                return Pages.loginPage(next: next, error: "That token is not known here.", status: .unauthorized)
            }
            let secure = request.headers[.init("X-Forwarded-Proto")!] == "https" ? "; Secure" : ""
            let id = self.service.sessions.open(for: who)
            return Pages.redirect(next, headers: [.setCookie: "\(Pages.cookie)=\(id); Path=/ui; HttpOnly; SameSite=Lax; Max-Age=43200\(secure)"])
        }

        router.post("/ui/logout") { request, _ in
            guard isSameOrigin(request) else { return Pages.crossSite }
            if let id = Pages.session(request) { self.service.sessions.close(id) }
            return Pages.redirect("/ui/login", headers: [.setCookie: "\(Pages.cookie)=; Path=/ui; HttpOnly; SameSite=Lax; Max-Age=0"])
        }

        router.get("/ui/:project") { request, context in await self.projectPage(request, context, nav: "history") { who, project, view in
            let offset = max(0, request.uri.queryParameters["offset"].flatMap { Int($0) } ?? 0)
            let newestFirst = view.order.reversed().dropFirst(offset).prefix(Pages.historyPageSize)
            var page = self.base(project, project: project, nav: "history", who: who)
            page["count"] = view.order.count
            page["one"] = view.order.count == 1
            if let head = view.head { page["head"] = head; page["headShort"] = Pages.short(head) }
            page["events"] = try newestFirst.map { id -> [String: Any?] in
                let e = try view.log.event(id)
                let pushed = view.pushed[id]
                return ["id": id, "short": Pages.short(id), "message": e.message, "author": e.author, "date": Timestamp.iso8601(e.timestamp),
                        "signer": e.signature?.signedBy, "pushedBy": pushed?.by ?? "", "pushedAt": pushed?.at ?? "",
                        "merge": e.parents.count > 1, "parents": e.parents.map(Pages.short), "isHead": id == view.head,
                        "ops": e.ops.map(\.summary), "hasOps": !e.ops.isEmpty, "project": project]
            }
            if offset + Pages.historyPageSize < view.order.count { page["older"] = offset + Pages.historyPageSize }
            return Pages.html(.ok, Pages.render("history", page))
        } }

        router.get("/ui/:project/events/:id") { request, context in await self.projectPage(request, context, nav: "history") { who, project, view in
            guard let id = try view.resolve(try context.parameters.require("id")) else {
                throw RegistryError.notFound("base is not an event; name a revision")
            }
            let d = try view.details(of: id)
            let pushed = view.pushed[id]
            var page = self.base(d.event.message, project: project, nav: "history", who: who)
            page.merge(["id": id, "message": d.event.message, "parents": d.event.parents, "author": d.event.author,
                        "date": Timestamp.iso8601(d.event.timestamp), "signer": d.event.signature?.signedBy,
                        "pushedBy": pushed?.by ?? "", "pushedAt": pushed?.at ?? "", "firstParent": d.event.parents.first,
                        "ops": d.event.ops.map(\.summary), "inverse": d.inverse.map(\.summary), "up": d.up, "down": d.down]) { $1 }
            return Pages.html(.ok, Pages.render("event", page))
        } }

        router.get("/ui/:project/schema") { request, context in await self.projectPage(request, context, nav: "schema") { who, project, view in
            let id = try view.resolve(request.uri.queryParameters["at"].map(String.init) ?? "head")
            let schema = try view.state(at: id)
            var page = self.base("Schema", project: project, nav: "schema", who: who)
            if let id {
                let e = try view.log.event(id)
                page.merge(["id": id, "short": Pages.short(id), "message": e.message, "parent": e.parents.first]) { $1 }
            }
            page.merge(["diagram": SchemaDiagram.layout(schema), "ddl": DDL.script(schema),
                        "tableCount": schema.tables.count, "oneTable": schema.tables.count == 1,
                        "indexCount": schema.indexes.count, "oneIndex": schema.indexes.count == 1,
                        "viewCount": schema.views.count, "oneView": schema.views.count == 1,
                        "triggerCount": schema.triggers.count, "oneTrigger": schema.triggers.count == 1]) { $1 }
            return Pages.html(.ok, Pages.render("schema", page))
        } }

        router.get("/ui/:project/fleet") { request, context in await self.projectPage(request, context, nav: "fleet") { who, project, view in
            let f = try await fleet(of: project, in: self.service.store)
            var page = self.base("Fleet", project: project, nav: "fleet", who: who)
            if let head = f.head { page["head"] = head; page["headShort"] = Pages.short(head) }
            page["environments"] = f.environments.map { t -> [String: Any?] in
                ["name": t.name, "revision": t.revision, "short": Pages.short(t.revision), "setBy": t.setBy, "setAt": t.setAt,
                 "message": (try? view.log.event(t.revision).message) ?? "", "project": project]
            }
            page["hasEnvironments"] = !f.environments.isEmpty
            var attention = 0
            page["databases"] = f.databases.map { d -> [String: Any?] in
                let standing = view.standing(of: d)
                if standing.kind == "warn" || standing.kind == "bad" { attention += 1 }
                return ["node": d.report.node, "database": d.report.database, "revision": d.report.revision,
                        "short": d.report.revision == "base" ? "base" : Pages.short(d.report.revision),
                        "known": (try? view.log.contains(d.report.revision)) ?? false, "environment": d.report.environment ?? "",
                        "standing": standing.words, "kind": standing.kind, "reportedBy": d.reportedBy, "reportedAt": d.reportedAt, "project": project]
            }
            page["hasDatabases"] = !f.databases.isEmpty
            let rollouts = try await self.rollouts(of: project, environments: f.environments.map(\.name))
            page["rollouts"] = rollouts
            page["hasRollouts"] = !rollouts.isEmpty
            // While one runs the page reloads itself (a meta refresh: no script runs).
            if rollouts.contains(where: { $0["state"] as? String == "running" }) { page["refresh"] = "5" }
            page["attention"] = attention
            page["oneAttention"] = attention == 1
            return Pages.html(.ok, Pages.render("fleet", page))
        } }

        router.get("/ui/:project/audit") { request, context in await self.projectPage(request, context, nav: "audit") { who, project, _ in
            var page = self.base("Audit", project: project, nav: "audit", who: who)
            page["records"] = try await self.service.store.audit(of: project).reversed().map { r -> [String: Any?] in
                ["seq": r.seq, "at": r.at, "identity": r.identity, "action": r.action, "detail": r.detail.canonicalString]
            }
            return Pages.html(.ok, Pages.render("audit", page))
        } }
    }

    /// Checks the reader, then renders; the store's refusals become pages.
    func page(_ request: Request, _ context: RegistryContext, project: String?, _ body: (Identity?) async throws -> Response) async -> Response {
        switch reader(request, context, project: project) {
        case .failure(let refusal): return refusal.response
        case .success(let who):
            do { return try await body(who) } catch {
                let f = failure(for: error)
                return Pages.problem(f.status, f.status == .notFound ? "Not found" : "Error", f.body.message, project: project)
            }
        }
    }

    func projectPage(_ request: Request, _ context: RegistryContext, nav: String,
                     _ body: @escaping (Identity?, String, ProjectView) async throws -> Response) async -> Response {
        guard let project = try? projectName(context) else {
            return Pages.problem(.badRequest, "Not a project name", "project names are 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        return await page(request, context, project: project) { who in
            try await body(who, project, try await self.cache.view(of: project, in: self.service.store))
        }
    }
}
