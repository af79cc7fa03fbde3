import StrataCore
import StrataLog
import StrataWire

/// The registry's storage in memory: the second implementation, run through
/// the same tests as the SQLite one.
package actor MemoryRegistryStore: RegistryStore {
    struct Project {
        var log = MemoryEventLog(snapshotInterval: 256)
        var pushed: [String: (by: String, at: String)] = [:]
        var targets: [String: EnvironmentTarget] = [:]
        var reports: [String: StoredReport] = [:]
        var audit: [AuditRecord] = []
        var rollouts: [String: StoredRollout] = [:]
    }

    private var byName: [String: Project] = [:]
    private var auditSeq: Int64 = 0

    package nonisolated var location: String { "(memory)" }

    package init() {}

    private func project(_ name: String) throws -> Project {
        guard let p = byName[name] else { throw RegistryError.unknownProject(name) }
        return p
    }

    private func audit(_ name: String, _ action: String, _ identity: String, _ time: String, _ detail: JSON) {
        auditSeq += 1
        byName[name]?.audit.append(AuditRecord(seq: auditSeq, action: action, identity: identity, at: time, detail: detail))
    }

    package func createProject(_ name: String, by identity: String, at time: String) throws {
        guard byName[name] == nil else { throw RegistryError.projectExists(name) }
        byName[name] = Project()
        audit(name, "create-project", identity, time, .object([:]))
    }

    package func hasProject(_ name: String) throws -> Bool { byName[name] != nil }
    package func projects() throws -> [String] { byName.keys.sorted() }
    package func head(of name: String) throws -> String? { try project(name).log.heads().first }
    package func count(of name: String) throws -> Int { try project(name).log.count() }

    package func countAfter(_ after: String, of name: String) throws -> Int {
        let all = try project(name).log.allEvents()
        return all.firstIndex { $0.id == after }.map { all.count - $0 - 1 } ?? 0
    }

    package func events(of name: String, after: String?, limit: Int) throws -> (events: [PushedEvent], more: Bool) {
        let p = try project(name)
        let all = try p.log.allEvents()
        var start = 0
        if let after {
            guard let i = all.firstIndex(where: { $0.id == after }) else { throw RegistryError.unknownCursor("unknown event \(after.prefix(12)) in project \(name)") }
            start = i + 1
        }
        let page = all[start...].prefix(limit).map { PushedEvent(event: $0, pushedBy: p.pushed[$0.id]?.by ?? "", pushedAt: p.pushed[$0.id]?.at ?? "") }
        return (page, all.count - start > limit)
    }

    package func push(_ events: [Event], to name: String, base: String?, by identity: String, signers: [String], at time: String) throws -> String {
        let p = try project(name)
        guard try p.log.heads().first == base else { throw RegistryError.conflict(head: try p.log.heads().first) }
        // Stage on a copy (copy on write, not a second validation of every event): all or nothing.
        let staged = p.log.copy()
        do { try staged.append(events, expectedHeads: base.map { [$0] } ?? []) } catch let e as LogError { throw RegistryError.invalid(e.message) }
        let heads = try staged.heads()
        guard heads.count == 1 else { throw RegistryError.invalid("the events do not extend the registry's head in one line; pull, merge or rebase, and push again") }
        byName[name]!.log = staged
        for e in events where byName[name]!.pushed[e.id] == nil { byName[name]!.pushed[e.id] = (identity, time) }
        var detail: [String: JSON] = ["base": base.map(JSON.string) ?? .null, "head": .string(heads[0]), "events": .int(Int64(events.count))]
        if !signers.isEmpty { detail["signed_by"] = .array(signers.map(JSON.string)) }
        audit(name, "push", identity, time, .object(detail))
        return heads[0]
    }

    package func setTarget(_ revision: String, environment: String, of name: String, by identity: String, at time: String) throws {
        guard try project(name).log.contains(revision) else { throw RegistryError.notFound("revision \(revision.prefix(12)) is not in project \(name); push it first") }
        byName[name]!.targets[environment] = EnvironmentTarget(name: environment, revision: revision, setBy: identity, setAt: time)
        audit(name, "promote", identity, time, .object(["environment": .string(environment), "revision": .string(revision)]))
    }

    package func targets(of name: String) throws -> [EnvironmentTarget] { try project(name).targets.values.sorted { $0.name < $1.name } }

    package func record(_ reports: [Report], of name: String, by identity: String, at time: String) throws {
        _ = try project(name)
        for report in reports {
            byName[name]!.reports["\(report.node)\u{1}\(report.database)"] = StoredReport(report: report, reportedBy: identity, reportedAt: time)
            audit(name, "report", identity, time, report.json)
        }
    }

    package func reports(of name: String) throws -> [StoredReport] {
        try project(name).reports.values.sorted { ($0.report.node, $0.report.database) < ($1.report.node, $1.report.database) }
    }

    package func audit(of name: String) throws -> [AuditRecord] { try project(name).audit }

    package func rollout(of name: String, environment: String) throws -> StoredRollout? { try project(name).rollouts[environment] }

    package func saveRollout(_ rollout: Rollout, of name: String, expected: Int?, target: String?, note: AuditNote) throws -> Bool {
        let p = try project(name)
        guard p.rollouts[rollout.environment]?.version == expected else { return false }
        if let target {
            guard try p.log.contains(target) else { throw RegistryError.notFound("revision \(target.prefix(12)) is not in project \(name); push it first") }
            byName[name]!.targets[rollout.environment] = EnvironmentTarget(name: rollout.environment, revision: target, setBy: note.identity, setAt: note.at)
        }
        byName[name]!.rollouts[rollout.environment] = StoredRollout(rollout: rollout, version: (expected ?? 0) + 1)
        audit(name, note.action, note.identity, note.at, note.detail)
        return true
    }
}
