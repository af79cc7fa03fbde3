import StrataCore

/// What a node reports after it migrated a database (or found it already
/// at its target: no direction).
package struct Report: Sendable, Equatable {
    package var node: String
    package var database: String
    package var revision: String
    package var direction: Direction?
    package var at: String
    package var environment: String?
    /// Whether the database's schema differs from the state at its
    /// revision (what `strata check` compares); nil when not known.
    package var drifted: Bool?
    /// Why the database could not be brought to its environment's target
    /// (`CODE: message`, as the node said it); nil when nothing failed.
    /// `revision` is then where it stayed. A rollout counts these.
    package var failure: String?

    package init(node: String, database: String, revision: String, direction: Direction?, at: String, environment: String?,
                 drifted: Bool? = nil, failure: String? = nil) {
        self.node = node
        self.database = database
        self.revision = revision
        self.direction = direction
        self.at = at
        self.environment = environment
        self.drifted = drifted
        self.failure = failure
    }

    /// How long a failure's text may be (a longer one is cut by the node).
    package static let failureLimit = 1000

    /// `CODE: message`, cut to what a report may carry.
    package static func failure(code: String, _ message: String) -> String {
        String("\(code): \(message)".unicodeScalars.prefix(failureLimit))
    }

    /// The wire name of a direction; `none` when the database did not move.
    package static func wireName(_ direction: Direction?) -> String { direction?.rawValue ?? "none" }

    package var json: JSON {
        var fields: [String: JSON] = ["node": .string(node), "database": .string(database), "revision": .string(revision),
                                      "direction": .string(Report.wireName(direction)), "at": .string(at), "environment": .optional(environment)]
        if let drifted { fields["drifted"] = .bool(drifted) }
        if let failure { fields["failure"] = .string(failure) }
        return .object(fields)
    }

    /// Every field is checked: a report the registry takes shows in the
    /// fleet as it came. A revision the registry does not have (a node's
    /// unpublished work) is well-formed and taken.
    package init(json: JSON) throws {
        let f = try Fields(json, "report")
        let direction = try f.string("direction")
        guard direction == "none" || Direction(rawValue: direction) != nil else {
            throw WireError("report: \"direction\" must be up, down or none")
        }
        let node = try Names.check(try f.string("node"), "report: node")
        let database = try f.string("database")
        guard !database.isEmpty, database.utf8.count <= 4096, Names.isPrintable(database) else {
            throw WireError("report: \"database\" must be a path of 1 to 4096 bytes without control characters")
        }
        let revision = try f.string("revision")
        guard revision == "base" || Event.isID(revision) else {
            throw WireError("report: \"revision\" must be base or an event id (64 lowercase hex digits)")
        }
        let at = try f.string("at")
        guard Timestamp.parse(at) != nil else { throw WireError("report: \"at\" must be a time as YYYY-MM-DDTHH:MM:SS.mmmZ") }
        let environment = try f.optionalString("environment").map { try Names.check($0, "report: environment") }
        let failure = try f.optionalString("failure")
        if let failure, failure.isEmpty || failure.unicodeScalars.count > Report.failureLimit {
            throw WireError("report: \"failure\" must be 1 to \(Report.failureLimit) characters")
        }
        self.init(node: node, database: database, revision: revision, direction: Direction(rawValue: direction), at: at, environment: environment,
                  drifted: try f.optionalBool("drifted"), failure: failure)
    }

}

extension Report {
    /// How many reports go in one request at most.
    package static let pageSize = 500

    /// The body of a request carrying several reports.
    package static func batchJSON(_ reports: [Report]) -> JSON { .object(["reports": .array(reports.map(\.json))]) }

    /// One report, or `{"reports": [REPORT, ...]}`: every one valid, or none taken.
    package static func batch(json: JSON) throws -> [Report] {
        guard let items = json["reports"] else { return [try Report(json: json)] }
        guard let array = items.arrayValue, !array.isEmpty, array.count <= pageSize else {
            throw WireError("reports: expected an array of 1 to \(pageSize) reports")
        }
        return try array.enumerated().map { n, item in
            do { return try Report(json: item) } catch { throw WireError("reports[\(n)]: \(error)") }
        }
    }
}

/// An environment's target revision and who set it.
package struct EnvironmentTarget: Sendable, Equatable {
    package let name: String
    package let revision: String
    package let setBy: String
    package let setAt: String

    package init(name: String, revision: String, setBy: String, setAt: String) {
        self.name = name
        self.revision = revision
        self.setBy = setBy
        self.setAt = setAt
    }

    /// As `GET /environments/{environment}` answers (`environment`) or as the
    /// fleet lists it (`name`).
    package func json(nameKey: String = "name") -> JSON {
        .object([nameKey: .string(name), "revision": .string(revision), "set_by": .string(setBy), "set_at": .string(setAt)])
    }

    package init(json: JSON, nameKey: String = "name") throws {
        let f = try Fields(json, "environment")
        self.init(name: try f.string(nameKey), revision: try f.string("revision"), setBy: try f.string("set_by"), setAt: try f.string("set_at"))
    }
}

/// `PUT /environments/{environment}`'s body.
package struct TargetRequest: Sendable, Equatable {
    package var revision: String
    /// Roll it out in waves instead of setting it for every node at once.
    package var rollout: RolloutRequest?
    package init(revision: String, rollout: RolloutRequest? = nil) {
        self.revision = revision
        self.rollout = rollout
    }
    package var json: JSON {
        var fields: [String: JSON] = ["revision": .string(revision)]
        if let rollout { fields["rollout"] = rollout.json }
        return .object(fields)
    }
    package init(json: JSON) throws {
        guard let revision = json["revision"]?.stringValue else { throw WireError("expected {\"revision\": ID}") }
        self.revision = revision
        if let r = json["rollout"], r != .null { rollout = try RolloutRequest(json: r) }
    }
}

/// One database in the fleet: its last report, and how it stands against
/// its environment's target.
package struct FleetDatabase: Sendable, Equatable {
    package var report: Report
    package var reportedBy: String
    package var reportedAt: String
    /// The target of the report's environment; nil when it has none.
    package var target: String?

    package init(report: Report, reportedBy: String, reportedAt: String, target: String?) {
        self.report = report
        self.reportedBy = reportedBy
        self.reportedAt = reportedAt
        self.target = target
    }

    /// Whether the database is not at its environment's target (nil without one).
    package var behind: Bool? { target.map { $0 != report.revision } }

    package var json: JSON {
        .object(["node": .string(report.node), "database": .string(report.database), "revision": .string(report.revision),
                 "direction": .string(Report.wireName(report.direction)), "at": .string(report.at),
                 "reported_by": .string(reportedBy), "reported_at": .string(reportedAt), "environment": .optional(report.environment),
                 "target": .optional(target), "behind": behind.map(JSON.bool) ?? .null, "drifted": report.drifted.map(JSON.bool) ?? .null,
                 "failure": .optional(report.failure)])
    }

    package init(json: JSON) throws {
        let f = try Fields(json, "fleet database")
        self.init(report: try Report(json: json), reportedBy: try f.string("reported_by"), reportedAt: try f.string("reported_at"),
                  target: try f.optionalString("target"))
    }
}

/// `GET /fleet`: the project's head, its environments and every database's last report.
package struct Fleet: Sendable, Equatable {
    package var project: String
    package var head: String?
    package var environments: [EnvironmentTarget]
    package var databases: [FleetDatabase]

    package init(project: String, head: String?, environments: [EnvironmentTarget], databases: [FleetDatabase]) {
        self.project = project
        self.head = head
        self.environments = environments
        self.databases = databases
    }

    /// Each node's databases counted by revision (a node may hold thousands).
    package var nodes: [NodeSummary] {
        var byNode: [String: [String: (count: Int, behind: Int)]] = [:]
        for d in databases {
            var entry = byNode[d.report.node, default: [:]][d.report.revision] ?? (0, 0)
            entry.count += 1
            if d.behind == true { entry.behind += 1 }
            byNode[d.report.node, default: [:]][d.report.revision] = entry
        }
        return byNode.keys.sorted().map { node in
            NodeSummary(node: node, revisions: byNode[node]!.sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }
                .map { NodeSummary.Revision(revision: $0.key, databases: $0.value.count, behind: $0.value.behind) })
        }
    }

    package var json: JSON {
        .object(["project": .string(project), "head": .optional(head), "environments": .array(environments.map { $0.json() }),
                 "databases": .array(databases.map(\.json)), "nodes": .array(nodes.map(\.json))])
    }

    package init(json: JSON) throws {
        let f = try Fields(json, "fleet")
        self.init(project: try f.string("project"), head: try f.optionalString("head"),
                  environments: try f.array("environments").map { try EnvironmentTarget(json: $0) },
                  databases: try f.array("databases").map(FleetDatabase.init(json:)))
    }
}

/// A node's databases by revision: `480 at 2d32b0ab, 18 at 1a2b3c4d`.
package struct NodeSummary: Sendable, Equatable {
    package struct Revision: Sendable, Equatable {
        package let revision: String
        package let databases: Int
        /// How many of them are behind their environment's target.
        package let behind: Int
    }

    package let node: String
    package let revisions: [Revision]

    package var json: JSON {
        .object(["node": .string(node), "revisions": .array(revisions.map {
            .object(["revision": .string($0.revision), "databases": .int(Int64($0.databases)), "behind": .int(Int64($0.behind))])
        })])
    }
}

/// One entry of the registry's append-only audit trail.
package struct AuditRecord: Sendable, Equatable {
    package let seq: Int64
    package let action: String
    package let identity: String
    package let at: String
    package let detail: JSON

    package init(seq: Int64, action: String, identity: String, at: String, detail: JSON) {
        self.seq = seq
        self.action = action
        self.identity = identity
        self.at = at
        self.detail = detail
    }

    package var json: JSON {
        .object(["seq": .int(seq), "action": .string(action), "identity": .string(identity), "at": .string(at), "detail": detail])
    }

    package init(json: JSON) throws {
        let f = try Fields(json, "audit record")
        self.init(seq: try f.int("seq"), action: try f.string("action"), identity: try f.string("identity"), at: try f.string("at"),
                  detail: try f.value("detail"))
    }
}

/// `GET /audit`.
package struct AuditTrail: Sendable, Equatable {
    package var records: [AuditRecord]
    package init(records: [AuditRecord]) { self.records = records }
    package var json: JSON { .object(["records": .array(records.map(\.json))]) }
    package init(json: JSON) throws {
        self.init(records: try Fields(json, "audit").array("records").map(AuditRecord.init(json:)))
    }
}

/// How long the registry holds a watch, at most and when the request does
/// not say: under the server's idle timeout (30 s), which would close a
/// longer one.
package enum WatchLimits {
    package static let defaultWait = 25
    package static let maxWait = 25
}
