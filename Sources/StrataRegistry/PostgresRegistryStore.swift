import Foundation
import Logging
import PostgresNIO
import _ConnectionPoolModule
import StrataCore
import StrataLog
import StrataWire

/// The registry's storage on PostgreSQL, for several registry processes on
/// one store. Each push runs in one transaction that first locks its
/// project's row (`SELECT … FOR UPDATE`): pushes to one project queue there
/// across every process, pushes to different projects do not wait for each
/// other, and the compare-and-swap on the head reads the committed head.
/// Events are numbered per project (`n`, the primary key with the project),
/// which gives pulls their stable order. The audit trail and the events are
/// append-only: triggers refuse UPDATE, DELETE and TRUNCATE.
///
/// A push is validated as in the SQLite store (parents known, ops fold onto
/// the parent's state) against a per-process copy of the project's log in
/// memory, brought up to date under the row lock from the events other
/// processes appended.
package final class PostgresRegistryStore: RegistryStore, @unchecked Sendable {
    package let location: String
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    /// How long a request waits for a connection before the registry answers 503.
    let connectTimeout: Duration
    let lock = NSLock()
    /// Each project's log as this process last saw it.
    var logs: [String: MemoryEventLog] = [:]

    /// The store's schema, one step per version; `strata_store_version` says
    /// which steps a database has. A store newer than this build is refused.
    static let migrations: [[String]] = [[
        "CREATE TABLE projects (name text PRIMARY KEY, created_by text NOT NULL, created_at text NOT NULL, head text, events bigint NOT NULL DEFAULT 0)",
        """
        CREATE TABLE events (
            project text NOT NULL REFERENCES projects (name), n bigint NOT NULL, id text NOT NULL, body text NOT NULL,
            signed_by text, signature text, pushed_by text NOT NULL, pushed_at text NOT NULL,
            PRIMARY KEY (project, n), UNIQUE (project, id))
        """,
        """
        CREATE TABLE environments (
            project text NOT NULL REFERENCES projects (name), name text NOT NULL, revision text NOT NULL, set_by text NOT NULL, set_at text NOT NULL,
            PRIMARY KEY (project, name))
        """,
        """
        CREATE TABLE reports (
            project text NOT NULL REFERENCES projects (name), node text NOT NULL, database text NOT NULL, revision text NOT NULL,
            direction text NOT NULL, environment text, at text NOT NULL, reported_by text NOT NULL, reported_at text NOT NULL, drifted boolean,
            PRIMARY KEY (project, node, database))
        """,
        """
        CREATE TABLE audit (
            seq bigserial PRIMARY KEY, project text NOT NULL REFERENCES projects (name), action text NOT NULL, identity text NOT NULL,
            at text NOT NULL, detail text NOT NULL)
        """,
        "CREATE INDEX audit_project ON audit (project, seq)",
        """
        CREATE FUNCTION strata_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the % table is append-only', TG_TABLE_NAME; END $$
        """,
        "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION strata_append_only()",
        "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION strata_append_only()",
        "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION strata_append_only()",
        "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION strata_append_only()",
    ], [
        // Rollouts, and the failure a node reported (a rollout counts them).
        "ALTER TABLE reports ADD COLUMN failure text",
        """
        CREATE TABLE rollouts (
            project text NOT NULL REFERENCES projects (name), environment text NOT NULL, version bigint NOT NULL, body text NOT NULL,
            PRIMARY KEY (project, environment))
        """,
    ]]

    /// Connects (the pool reconnects by itself after PostgreSQL restarts) and
    /// brings the schema to this build's version, one process at a time.
    package init(url: String, connectTimeout: Duration = .seconds(3), logger: Logger = Logger(label: "strata-registry.postgres")) async throws {
        let target = try PostgresTarget(url)
        location = target.location
        self.connectTimeout = connectTimeout
        self.logger = logger
        try await target.probe(within: connectTimeout, logger: logger)
        let client = PostgresClient(configuration: target.clientConfiguration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
        do { try await migrate() } catch {
            runner.cancel()
            throw error
        }
    }

    deinit { runner.cancel() }

    /// Stops the connection pool.
    package func close() { runner.cancel() }

    /// The URL without its password, for messages and logs.
    static func redacted(_ url: String) -> String {
        guard var c = URLComponents(string: url), c.password != nil else { return url }
        c.password = "***"
        return c.string ?? url
    }

    // MARK: - Running queries

    /// Runs `body` on a pooled connection. When none can be had within
    /// `connectTimeout` (PostgreSQL down or restarting), or the connection
    /// breaks, the store answers `RegistryError.unavailable` (503).
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let acquired = Flag()
        let timeout = connectTimeout
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await self.client.withConnection { connection in
                        acquired.set()
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    guard acquired.isSet else { throw RegistryError.unavailable("PostgreSQL did not answer within \(timeout)") }
                    return nil // the request has its connection: let it finish
                }
                defer { group.cancelAll() }
                // The timer's nil, then the request's answer (or the timer's error first).
                while let result = try await group.next() {
                    if let result { return result }
                }
                throw RegistryError.unavailable("PostgreSQL did not answer")
            }
        } catch {
            throw PostgresRegistryStore.translate(error)
        }
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            do {
                return try await connection.withTransaction(logger: self.logger) { try await body($0) }
            } catch let e as PostgresTransactionError {
                throw e.closureError ?? e.beginError ?? e.commitError ?? e
            }
        }
    }

    /// Connection trouble becomes 503; the store's own refusals pass through.
    static func translate(_ error: Error) -> Error {
        switch error {
        case is RegistryError, is CancellationError: return error
        case let e as PSQLError:
            let broken: [PSQLError.Code] = [.connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection, .poolClosed, .queryCancelled]
            if broken.contains(e.code) { return RegistryError.unavailable("the connection to PostgreSQL broke (\(e.code))") }
            let state = e.serverInfo?[.sqlState] ?? ""
            // 08: connection exceptions; 57: the server shutting down or starting.
            if state.hasPrefix("08") || state.hasPrefix("57") {
                return RegistryError.unavailable("PostgreSQL is not available (\(e.serverInfo?[.message] ?? state))")
            }
            return RegistryError.storeFailed("PostgreSQL refused a query: \(e.serverInfo?[.message] ?? String(describing: e.code)) (SQLSTATE \(state))")
        case let e as ConnectionPoolError:
            return RegistryError.unavailable("PostgreSQL cannot be reached (\(e))")
        default:
            return error
        }
    }

    func migrate() async throws {
        try await transaction { db in
            // One process at a time creates or upgrades the schema.
            try await db.query("SELECT pg_advisory_xact_lock(7270117)", logger: self.logger)
            try await db.query("CREATE TABLE IF NOT EXISTS strata_store_version (version integer NOT NULL)", logger: self.logger)
            var current = 0
            for try await (v) in try await db.query("SELECT coalesce(max(version), 0) FROM strata_store_version", logger: self.logger).decode(Int.self) {
                current = v
            }
            let known = PostgresRegistryStore.migrations.count
            guard current <= known else {
                throw RegistryError.invalid("the PostgreSQL store is at version \(current); this strata-registry knows up to \(known): upgrade strata")
            }
            for (i, step) in PostgresRegistryStore.migrations.enumerated() where i + 1 > current {
                for statement in step { try await db.query(PostgresQuery(unsafeSQL: statement), logger: self.logger) }
                try await db.query("INSERT INTO strata_store_version (version) VALUES (\(i + 1))", logger: self.logger)
            }
        }
    }

    static func audit(_ db: PostgresConnection, _ project: String, _ action: String, _ identity: String, _ time: String, _ detail: JSON, _ logger: Logger) async throws {
        try await db.query("INSERT INTO audit (project, action, identity, at, detail) VALUES (\(project), \(action), \(identity), \(time), \(detail.canonicalString))",
                           logger: logger)
    }

    /// The project's head and event count, locking its row when `forUpdate`.
    static func projectRow(_ db: PostgresConnection, _ project: String, forUpdate: Bool = false, _ logger: Logger) async throws -> (head: String?, count: Int) {
        let sql = forUpdate ? "SELECT head, events FROM projects WHERE name = $1 FOR UPDATE" : "SELECT head, events FROM projects WHERE name = $1"
        var binds = PostgresBindings()
        binds.append(project)
        for try await (head, count) in try await db.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).decode((String?, Int).self) {
            return (head, count)
        }
        throw RegistryError.unknownProject(project)
    }

    // MARK: - RegistryStore

    package func createProject(_ name: String, by identity: String, at time: String) async throws {
        let logger = logger
        try await transaction { db in
            let rows = try await db.query("INSERT INTO projects (name, created_by, created_at) VALUES (\(name), \(identity), \(time)) ON CONFLICT DO NOTHING RETURNING name",
                                          logger: logger).collect()
            guard !rows.isEmpty else { throw RegistryError.projectExists(name) }
            try await PostgresRegistryStore.audit(db, name, "create-project", identity, time, .object([:]), logger)
        }
    }

    package func hasProject(_ name: String) async throws -> Bool {
        let logger = logger
        return try await withConnection { db in !(try await db.query("SELECT 1 FROM projects WHERE name = \(name)", logger: logger).collect().isEmpty) }
    }

    package func projects() async throws -> [String] {
        let logger = logger
        return try await withConnection { db in
            var names: [String] = []
            for try await name in try await db.query("SELECT name FROM projects ORDER BY name", logger: logger).decode(String.self) { names.append(name) }
            return names
        }
    }

    package func head(of project: String) async throws -> String? {
        let logger = logger
        return try await withConnection { try await PostgresRegistryStore.projectRow($0, project, logger).head }
    }

    package func count(of project: String) async throws -> Int {
        let logger = logger
        return try await withConnection { try await PostgresRegistryStore.projectRow($0, project, logger).count }
    }

    static func position(_ db: PostgresConnection, of id: String, in project: String, _ logger: Logger) async throws -> Int? {
        for try await n in try await db.query("SELECT n FROM events WHERE project = \(project) AND id = \(id)", logger: logger).decode(Int.self) { return n }
        return nil
    }

    package func countAfter(_ after: String, of project: String) async throws -> Int {
        let logger = logger
        return try await withConnection { db in
            let count = try await PostgresRegistryStore.projectRow(db, project, logger).count
            return try await PostgresRegistryStore.position(db, of: after, in: project, logger).map { count - $0 } ?? 0
        }
    }

    package func events(of project: String, after: String?, limit: Int) async throws -> (events: [PushedEvent], more: Bool) {
        let logger = logger
        return try await withConnection { db in
            _ = try await PostgresRegistryStore.projectRow(db, project, logger)
            var from = 0
            if let after {
                guard let n = try await PostgresRegistryStore.position(db, of: after, in: project, logger) else {
                    throw RegistryError.unknownCursor("unknown event \(after.prefix(12)) in project \(project); pull without `after` to start over")
                }
                from = n
            }
            let page = try await PostgresRegistryStore.events(db, of: project, after: from, limit: limit + 1, logger)
            return (Array(page.prefix(limit)), page.count > limit)
        }
    }

    /// Appends events numbered from `after + 1`, 1,000 rows per statement
    /// (one round trip each, not one per event).
    static func insert(_ events: [PushedEvent], of project: String, after: Int, _ db: PostgresConnection, _ logger: Logger) async throws {
        var start = 0
        while start < events.count {
            let batch = events[start..<min(start + 1000, events.count)]
            let ns = batch.indices.map { after + $0 + 1 }
            try await db.query("""
                INSERT INTO events (project, n, id, body, signed_by, signature, pushed_by, pushed_at)
                SELECT \(project), n, id, body, nullif(signed_by, ''), nullif(signature, ''), pushed_by, pushed_at
                FROM unnest(\(ns)::bigint[], \(batch.map(\.event.id))::text[], \(batch.map { String(decoding: $0.event.canonicalBytes, as: UTF8.self) })::text[],
                            \(batch.map { $0.event.signature?.signedBy ?? "" })::text[], \(batch.map { $0.event.signature?.text ?? "" })::text[],
                            \(batch.map(\.pushedBy))::text[], \(batch.map(\.pushedAt))::text[])
                    AS t (n, id, body, signed_by, signature, pushed_by, pushed_at)
                """, logger: logger)
            start += batch.count
        }
    }

    /// A project's events after its `n`-th, in order, at most `limit` (all without one).
    static func events(_ db: PostgresConnection, of project: String, after n: Int, limit: Int? = nil, _ logger: Logger) async throws -> [PushedEvent] {
        var events: [PushedEvent] = []
        let rows = try await db.query("""
            SELECT id, body, signed_by, signature, pushed_by, pushed_at FROM events WHERE project = \(project) AND n > \(n) ORDER BY n LIMIT \(limit)
            """, logger: logger)
        for try await (id, body, signedBy, signature, pushedBy, pushedAt) in rows.decode((String, String, String?, String?, String, String).self) {
            // The id is recomputed from the body: a body edited in the store is never served.
            let event = try Event(canonical: Array(body.utf8)).withStoredSignature(signedBy: signedBy, signature: signature)
            guard event.id == id else {
                throw RegistryError.corrupt(id)
            }
            events.append(PushedEvent(event: event, pushedBy: pushedBy, pushedAt: pushedAt))
        }
        return events
    }

    /// This process's copy of the project's log, caught up with what is
    /// committed (`head`, `count`): other processes' events are appended;
    /// a copy that does not match is read again from the start.
    func currentLog(_ db: PostgresConnection, _ project: String, head: String?, count: Int) async throws -> MemoryEventLog {
        if let log = lock.withLock({ logs[project] }) {
            let have = try log.count()
            if have == count, try log.heads().first == head { return log }
            if have < count {
                let missing = try await PostgresRegistryStore.events(db, of: project, after: have, logger).map(\.event)
                if (try? log.append(missing, expectedHeads: nil)) != nil, try log.count() == count, try log.heads().first == head { return log }
            }
        }
        let log = MemoryEventLog(snapshotInterval: 256)
        do { try log.append(try await PostgresRegistryStore.events(db, of: project, after: 0, logger).map(\.event), expectedHeads: nil) } catch let e as LogError {
            throw RegistryError.storeFailed("project \(project)'s events in PostgreSQL do not form a valid log: \(e.message)")
        }
        lock.withLock { logs[project] = log }
        return log
    }

    func forget(_ log: MemoryEventLog, of project: String) {
        lock.withLock { if logs[project] === log { logs[project] = nil } }
    }

    package func push(_ events: [Event], to project: String, base: String?, by identity: String, signers: [String], at time: String) async throws -> String {
        let logger = logger
        let cached = Box<MemoryEventLog>()
        do {
            return try await transaction { db in
                let row = try await PostgresRegistryStore.projectRow(db, project, forUpdate: true, logger)
                guard row.head == base else { throw RegistryError.conflict(head: row.head) }
                let log = try await self.currentLog(db, project, head: row.head, count: row.count)
                let fresh = try events.filter { try !log.contains($0.id) }
                do { try log.append(events, expectedHeads: base.map { [$0] } ?? []) } catch let e as LogError {
                    throw RegistryError.invalid(e.message)
                }
                cached.value = log // from here on, a failure leaves the copy ahead of the store
                let heads = try log.heads()
                guard heads.count == 1 else {
                    throw RegistryError.invalid("the events do not extend the registry's head \(base.map { String($0.prefix(12)) } ?? "base") in one line; pull, merge or rebase, and push again")
                }
                try await PostgresRegistryStore.insert(fresh.map { PushedEvent(event: $0, pushedBy: identity, pushedAt: time) },
                                                       of: project, after: row.count, db, logger)
                let n = row.count + fresh.count
                try await db.query("UPDATE projects SET head = \(heads[0]), events = \(n) WHERE name = \(project)", logger: logger)
                var detail: [String: JSON] = ["base": base.map(JSON.string) ?? .null, "head": .string(heads[0]), "events": .int(Int64(events.count))]
                if !signers.isEmpty { detail["signed_by"] = .array(signers.map(JSON.string)) }
                try await PostgresRegistryStore.audit(db, project, "push", identity, time, .object(detail), logger)
                return heads[0]
            }
        } catch {
            if let log = cached.value { forget(log, of: project) }
            throw error
        }
    }

    package func setTarget(_ revision: String, environment: String, of project: String, by identity: String, at time: String) async throws {
        let logger = logger
        try await transaction { db in
            _ = try await PostgresRegistryStore.projectRow(db, project, logger)
            guard try await PostgresRegistryStore.position(db, of: revision, in: project, logger) != nil else {
                throw RegistryError.notFound("revision \(revision.prefix(12)) is not in project \(project); push it first")
            }
            try await db.query("""
                INSERT INTO environments (project, name, revision, set_by, set_at) VALUES (\(project), \(environment), \(revision), \(identity), \(time))
                ON CONFLICT (project, name) DO UPDATE SET revision = excluded.revision, set_by = excluded.set_by, set_at = excluded.set_at
                """, logger: logger)
            try await PostgresRegistryStore.audit(db, project, "promote", identity, time,
                                                  .object(["environment": .string(environment), "revision": .string(revision)]), logger)
        }
    }

    package func targets(of project: String) async throws -> [EnvironmentTarget] {
        let logger = logger
        return try await withConnection { db in
            _ = try await PostgresRegistryStore.projectRow(db, project, logger)
            var targets: [EnvironmentTarget] = []
            let rows = try await db.query("SELECT name, revision, set_by, set_at FROM environments WHERE project = \(project) ORDER BY name", logger: logger)
            for try await (name, revision, setBy, setAt) in rows.decode((String, String, String, String).self) {
                targets.append(EnvironmentTarget(name: name, revision: revision, setBy: setBy, setAt: setAt))
            }
            return targets
        }
    }

    package func record(_ reports: [Report], of project: String, by identity: String, at time: String) async throws {
        let logger = logger
        try await transaction { db in
            _ = try await PostgresRegistryStore.projectRow(db, project, logger)
            for report in reports {
                try await db.query("""
                    INSERT INTO reports (project, node, database, revision, direction, environment, at, reported_by, reported_at, drifted, failure)
                    VALUES (\(project), \(report.node), \(report.database), \(report.revision), \(Report.wireName(report.direction)), \(report.environment),
                            \(report.at), \(identity), \(time), \(report.drifted), \(report.failure))
                    ON CONFLICT (project, node, database) DO UPDATE SET revision = excluded.revision, direction = excluded.direction,
                        environment = excluded.environment, at = excluded.at, reported_by = excluded.reported_by,
                        reported_at = excluded.reported_at, drifted = excluded.drifted, failure = excluded.failure
                    """, logger: logger)
                try await PostgresRegistryStore.audit(db, project, "report", identity, time, report.json, logger)
            }
        }
    }

    package func reports(of project: String) async throws -> [StoredReport] {
        let logger = logger
        return try await withConnection { db in
            _ = try await PostgresRegistryStore.projectRow(db, project, logger)
            var reports: [StoredReport] = []
            let rows = try await db.query("""
                SELECT node, database, revision, direction, at, environment, reported_by, reported_at, drifted, failure
                FROM reports WHERE project = \(project) ORDER BY node, database
                """, logger: logger)
            for try await (node, database, revision, direction, at, environment, by, reportedAt, drifted, failure)
                in rows.decode((String, String, String, String, String, String?, String, String, Bool?, String?).self) {
                reports.append(StoredReport(report: Report(node: node, database: database, revision: revision, direction: Direction(rawValue: direction),
                                                           at: at, environment: environment, drifted: drifted, failure: failure),
                                            reportedBy: by, reportedAt: reportedAt))
            }
            return reports
        }
    }

    package func audit(of project: String) async throws -> [AuditRecord] {
        let logger = logger
        return try await withConnection { db in
            _ = try await PostgresRegistryStore.projectRow(db, project, logger)
            var records: [AuditRecord] = []
            let rows = try await db.query("SELECT seq, action, identity, at, detail FROM audit WHERE project = \(project) ORDER BY seq", logger: logger)
            for try await (seq, action, identity, at, detail) in rows.decode((Int64, String, String, String, String).self) {
                records.append(AuditRecord(seq: seq, action: action, identity: identity, at: at, detail: (try? JSON.parse(detail)) ?? .null))
            }
            return records
        }
    }
}

/// Where a PostgreSQL store lives: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`.
struct PostgresTarget {
    let host: String, port: Int, user: String, password: String?, database: String, sslmode: String, location: String

    init(_ url: String) throws {
        location = PostgresRegistryStore.redacted(url)
        guard let c = URLComponents(string: url), c.scheme == "postgres" || c.scheme == "postgresql",
              let host = c.host, !host.isEmpty, let user = c.user, !user.isEmpty else {
            throw RegistryError.invalid("\(location) is not a PostgreSQL URL; write postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        self.host = host
        port = c.port ?? 5432
        self.user = user
        password = c.password
        let path = String(c.path.drop { $0 == "/" })
        database = path.isEmpty ? user : path
        sslmode = c.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard ["disable", "prefer", "require"].contains(sslmode) else {
            throw RegistryError.invalid("sslmode=\(sslmode) is not known; use disable, prefer or require")
        }
    }

    var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslmode {
        case "disable": tls = .disable
        case "require": tls = .require(.makeClientConfiguration())
        default: tls = .prefer(.makeClientConfiguration())
        }
        var config = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        config.options.connectTimeout = .seconds(5)
        return config
    }

    /// One connection made by hand before the pool starts, so that a
    /// registry that cannot use its store says why at once (the pool would
    /// only retry, and every request would wait for it).
    func probe(within timeout: Duration, logger: Logger) async throws {
        let tls: PostgresConnection.Configuration.TLS
        switch sslmode {
        case "disable": tls = .disable
        case "require": tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        default: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var config = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        config.options.connectTimeout = .init(timeout)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: config, id: 0, logger: logger)
        } catch let e as PSQLError {
            throw explain(e)
        }
        try? await connection.close()
    }

    /// What a failed connection means for the person starting the registry.
    func explain(_ e: PSQLError) -> RegistryError {
        let server = "PostgreSQL at \(host):\(port)"
        switch e.code {
        case .sslUnsupported:
            return .invalid("\(server) does not offer TLS, and \(location) says sslmode=require; turn ssl on in the server, or use sslmode=prefer")
        case .connectionError:
            return .unavailable("cannot connect to \(server) (\(e.underlying.map { "\($0)" } ?? "no answer")); check that it runs and listens there")
        case .server:
            let state = e.serverInfo?[.sqlState] ?? ""
            let message = e.serverInfo?[.message] ?? "refused"
            switch state {
            case "28P01", "28000": return .invalid("\(server) refused user \(user): \(message); check the user and password in the URL")
            case "3D000": return .invalid("\(server) has no database \(database): create it first (createdb -O \(user) \(database))")
            default:
                if state.hasPrefix("57") || state.hasPrefix("08") { return .unavailable("\(server) is not accepting connections: \(message)") }
                return .invalid("\(server) refused the connection: \(message) (SQLSTATE \(state))")
            }
        default:
            return .unavailable("cannot connect to \(server): \(e.code)")
        }
    }
}

/// A flag set once, read from another task.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// A value handed out of a `@Sendable` closure.
final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

extension PostgresRegistryStore: ProjectLoading {
    /// Writes a project as another store held it, in one transaction. The
    /// events are checked as a push would check them (each id recomputed
    /// from its bytes, parents known, ops fold onto the parent's state).
    package func load(_ project: ProjectDump) async throws {
        let log = MemoryEventLog(snapshotInterval: 256)
        do {
            try log.append(try project.events.map { pushed in
                var event = try Event(canonical: pushed.event.canonicalBytes)
                guard event.id == pushed.event.id else { throw RegistryError.storeFailed("event \(pushed.event.id.prefix(12)) of \(project.name): its bytes hash to \(event.id.prefix(12))") }
                event.signature = pushed.event.signature
                return event
            }, expectedHeads: nil)
        } catch let e as LogError {
            throw RegistryError.storeFailed("project \(project.name)'s events do not form a valid log: \(e.message)")
        }
        let logger = logger
        try await transaction { db in
            let created = project.created
            try await db.query("""
                INSERT INTO projects (name, created_by, created_at, head, events)
                VALUES (\(project.name), \(created.by), \(created.at), \(project.events.last?.event.id), \(project.events.count))
                """, logger: logger)
            try await PostgresRegistryStore.insert(project.events, of: project.name, after: 0, db, logger)
            for t in project.targets {
                try await db.query("""
                    INSERT INTO environments (project, name, revision, set_by, set_at) VALUES (\(project.name), \(t.name), \(t.revision), \(t.setBy), \(t.setAt))
                    """, logger: logger)
            }
            for r in project.reports {
                try await db.query("""
                    INSERT INTO reports (project, node, database, revision, direction, environment, at, reported_by, reported_at, drifted, failure)
                    VALUES (\(project.name), \(r.report.node), \(r.report.database), \(r.report.revision), \(Report.wireName(r.report.direction)),
                            \(r.report.environment), \(r.report.at), \(r.reportedBy), \(r.reportedAt), \(r.report.drifted), \(r.report.failure))
                    """, logger: logger)
            }
            for a in project.audit {
                try await PostgresRegistryStore.audit(db, project.name, a.action, a.identity, a.at, a.detail, logger)
            }
        }
        lock.withLock { logs[project.name] = log }
    }

    /// Reads every stored event's bytes, hashes them again and compares
    /// with the stored id; the number checked.
    func recomputedIDs(of project: String) async throws -> Int {
        let logger = logger
        return try await withConnection { db in
            var checked = 0
            for try await (id, body) in try await db.query("SELECT id, body FROM events WHERE project = \(project) ORDER BY n", logger: logger)
                .decode((String, String).self) {
                let event = try Event(canonical: Array(body.utf8))
                guard event.id == id else { throw RegistryError.storeFailed("event \(id.prefix(12)) of \(project) hashes to \(event.id.prefix(12)) in PostgreSQL") }
                checked += 1
            }
            return checked
        }
    }
}
