import StrataCore
import StrataWire

/// A refusal by the registry's storage, mapped to an HTTP status by the server.
package enum RegistryError: Error, CustomStringConvertible, Sendable, Equatable {
    case unknownProject(String)
    case projectExists(String)
    case conflict(head: String?)
    case invalid(String)
    case notFound(String)
    /// A pull's `after` names an event the project does not hold (the
    /// registry was reset): 404 `pull.unknown_after`, and the client starts over.
    case unknownCursor(String)
    /// The store cannot be reached now (PostgreSQL down or restarting): 503.
    case unavailable(String)
    /// The store refused or failed in a way no request explains: 500.
    case storeFailed(String)
    /// The store's disk is full: 507, and the client may retry later.
    case storeFull(String)
    /// The store holds this event id over a body that does not hash to it
    /// (edited outside the registry): never served; 503, and counted.
    case corrupt(String)

    package var description: String {
        switch self {
        case .unknownProject(let p): return "unknown project \(p); an admin creates it with `strata registry project create \(p)` (PUT /v1/projects/\(p)), or `strata registry serve --project \(p)`"
        case .projectExists(let p): return "project \(p) exists already"
        case .conflict: return "the push builds on a stale head"
        case .invalid(let m): return m
        case .notFound(let m): return m
        case .unknownCursor(let m): return m
        case .unavailable(let m): return "the registry's store is unavailable: \(m); try again shortly"
        case .storeFailed(let m): return m
        case .storeFull(let m): return "the registry's disk is full (\(m)); nothing was written: free space on the registry's host, then try again"
        case .corrupt(let id): return "the registry's store is unavailable: the store holds event \(id.prefix(12)) with a body that does not hash to its id "
            + "(the store was edited outside the registry); restore the store from a backup"
        }
    }
}

/// A node's last report on one database, and who delivered it when.
package struct StoredReport: Sendable, Equatable {
    package let report: Report
    package let reportedBy: String
    package let reportedAt: String

    package init(report: Report, reportedBy: String, reportedAt: String) {
        self.report = report
        self.reportedBy = reportedBy
        self.reportedAt = reportedAt
    }
}

/// The registry's storage: one log per project plus the fleet's state and an
/// append-only audit trail. The SQLite store is the default (one process);
/// the PostgreSQL store lets several registry processes share one store.
/// The memory store is an actor (one request at a time); the SQLite store
/// runs each project's pushes on an actor of their own, so only pushes to
/// one project wait for each other; the PostgreSQL store runs requests
/// side by side, and its database serialises
/// pushes to one project.
package protocol RegistryStore: AnyObject, Sendable {
    /// Where the store lives, as `registry serve --store` names it (no password).
    var location: String { get }
    func createProject(_ name: String, by identity: String, at time: String) async throws
    func hasProject(_ name: String) async throws -> Bool
    /// Every project's name, sorted.
    func projects() async throws -> [String]
    func head(of project: String) async throws -> String?
    func count(of project: String) async throws -> Int
    /// Events appended after `after` (from the start when nil), at most `limit`.
    func events(of project: String, after: String?, limit: Int) async throws -> (events: [PushedEvent], more: Bool)
    /// How many events come after `after` (for a pull's progress).
    func countAfter(_ after: String, of project: String) async throws -> Int
    /// Appends atomically if `base` is still the head; every event is
    /// re-validated (parents known, ops fold onto the parent's state).
    /// `signers`: who signed the events (recorded in the audit trail).
    func push(_ events: [Event], to project: String, base: String?, by identity: String, signers: [String], at time: String) async throws -> String
    func setTarget(_ revision: String, environment: String, of project: String, by identity: String, at time: String) async throws
    func targets(of project: String) async throws -> [EnvironmentTarget]
    /// Records reports (a node's run over many databases sends them
    /// together), all or none, each with its audit entry.
    func record(_ reports: [Report], of project: String, by identity: String, at time: String) async throws
    func reports(of project: String) async throws -> [StoredReport]
    func audit(of project: String) async throws -> [AuditRecord]
    /// The environment's latest rollout, with the version `saveRollout` compares.
    func rollout(of project: String, environment: String) async throws -> StoredRollout?
    /// Writes `rollout` if the stored one is still at version `expected`
    /// (nil: there is none), and, when `target` is given, sets the
    /// environment's target to it; with the audit entry `note`, in one
    /// transaction. False, and nothing written, when another request or
    /// registry process wrote it first.
    func saveRollout(_ rollout: Rollout, of project: String, expected: Int?, target: String?, note: AuditNote) async throws -> Bool
}

extension [StoredReport] {
    /// Each report with when the registry took it, as a rollout reads them.
    var timed: [(report: Report, reportedAt: String)] { map { (report: $0.report, reportedAt: $0.reportedAt) } }
}

/// A rollout as the store holds it: `version` grows by one each write.
package struct StoredRollout: Sendable, Equatable {
    package let rollout: Rollout
    package let version: Int
    package init(rollout: Rollout, version: Int) {
        self.rollout = rollout
        self.version = version
    }
}

/// An audit entry to write with a change: who did what, when, with what.
package struct AuditNote: Sendable {
    package let action: String
    package let identity: String
    package let at: String
    package let detail: JSON
    package init(_ action: String, by identity: String, at time: String, _ detail: JSON) {
        (self.action, self.identity, self.at, self.detail) = (action, identity, time, detail)
    }
}

extension RegistryError: StrataError {
    package var exitStatus: ExitStatus {
        switch self {
        case .unavailable, .storeFull, .corrupt: return .unreachable
        case .storeFailed: return .difference
        case .unknownProject, .projectExists, .conflict, .invalid, .notFound, .unknownCursor: return .usage
        }
    }
    package var errorCode: String {
        switch self {
        case .unknownProject: return "project.unknown"
        case .projectExists: return "project.exists"
        case .conflict: return "push.stale_head"
        case .invalid: return "request.invalid"
        case .notFound: return "not_found"
        case .unknownCursor: return RegistryCodes.unknownCursor
        case .unavailable: return "store.unavailable"
        case .corrupt: return "store.corrupt"
        case .storeFailed: return "store.failed"
        case .storeFull: return "store.full"
        }
    }
}

extension RegistryStore {
    /// A push of unsigned events (no signer to record).
    package func push(_ events: [Event], to project: String, base: String?, by identity: String, at time: String) async throws -> String {
        try await push(events, to: project, base: base, by: identity, signers: [], at: time)
    }
}
