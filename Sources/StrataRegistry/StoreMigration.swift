import StrataCore
import StrataLog
import StrataWire

/// Everything a store holds about one project, in its order: what
/// `strata registry migrate-store` moves from one store to another.
package struct ProjectDump: Sendable {
    package let name: String
    package let events: [PushedEvent]
    package let targets: [EnvironmentTarget]
    package let reports: [StoredReport]
    package let audit: [AuditRecord]

    /// Who created the project and when, from its audit trail.
    var created: (by: String, at: String) {
        audit.first { $0.action == "create-project" }.map { ($0.identity, $0.at) } ?? ("migrate-store", audit.first?.at ?? "")
    }

    package static func read(_ name: String, from store: any RegistryStore) async throws -> ProjectDump {
        ProjectDump(name: name, events: try await read(name, eventsOnlyFrom: store), targets: try await store.targets(of: name),
                           reports: try await store.reports(of: name), audit: try await store.audit(of: name))
    }

    /// What a person compares: counts and the head.
    package var summary: String {
        "\(events.count) events, head \(events.last.map { String($0.event.id.prefix(12)) } ?? "base"), \(targets.count) environments, "
            + "\(reports.count) reports, \(audit.count) audit entries"
    }

    /// The differences between two dumps of one project, as sentences (none: the same).
    package func differences(from other: ProjectDump) -> [String] {
        var found: [String] = []
        if events.map(\.event.id) != other.events.map(\.event.id) { found.append("the events differ (\(events.count) against \(other.events.count))") }
        if events.map(\.pushedBy) != other.events.map(\.pushedBy) || events.map(\.pushedAt) != other.events.map(\.pushedAt) {
            found.append("who pushed the events, or when, differs")
        }
        if events.map(\.event.signature) != other.events.map(\.event.signature) { found.append("the signatures differ") }
        if targets != other.targets { found.append("the environments' targets differ") }
        if reports != other.reports { found.append("the reports differ") }
        let entry = { (r: AuditRecord) in "\(r.action) \(r.identity) \(r.at) \(r.detail.canonicalString)" }
        if audit.map(entry) != other.audit.map(entry) { found.append("the audit trails differ (\(audit.count) against \(other.audit.count) entries)") }
        return found
    }
}

/// A store that can take a project as another store held it (its events
/// with who pushed them, and its audit trail with the original times).
package protocol ProjectLoading: RegistryStore {
    func load(_ project: ProjectDump) async throws
}

/// `strata registry migrate-store`: copies every project of `source` into
/// `target`, then reads each back and compares it with the original, and
/// recomputes every event id from the bytes the target stored. Refuses
/// (writing nothing) when the target already holds one of the projects.
/// Returns one line per project.
package func migrateStore(from source: any RegistryStore, to target: any ProjectLoading, progress: (String) -> Void = { _ in }) async throws -> [String] {
    let names = try await source.projects()
    let existing = Set(try await target.projects()).intersection(names)
    guard existing.isEmpty else {
        throw RegistryError.invalid("\(target.location) already holds project \(existing.sorted().joined(separator: ", ")); "
            + "migrate into an empty store (nothing was written)")
    }
    var lines: [String] = []
    for name in names {
        let dump = try await ProjectDump.read(name, from: source)
        progress("\(name): copying \(dump.summary)")
        try await target.load(dump)
        let copy = try await ProjectDump.read(name, from: target)
        let differences = dump.differences(from: copy)
        guard differences.isEmpty else {
            throw RegistryError.storeFailed("project \(name) differs after the copy: \(differences.joined(separator: "; "))")
        }
        guard try await target.head(of: name) == dump.events.last?.event.id, try await target.count(of: name) == dump.events.count else {
            throw RegistryError.storeFailed("project \(name)'s head or count differs after the copy")
        }
        let recomputed = try await (target as? PostgresRegistryStore)?.recomputedIDs(of: name) ?? copy.events.count
        lines.append("\(name): \(dump.summary); the same in \(target.location), \(recomputed) ids recomputed from the stored bytes")
    }
    return lines
}

extension ProjectDump {
    /// A project's events (those after `start`), every page of them.
    static func read(_ name: String, eventsOnlyFrom store: any RegistryStore, after start: String? = nil) async throws -> [PushedEvent] {
        var events: [PushedEvent] = []
        var after = start
        while true {
            let page = try await store.events(of: name, after: after, limit: 5000)
            events += page.events
            after = page.events.last?.event.id
            if !page.more { return events }
        }
    }
}
