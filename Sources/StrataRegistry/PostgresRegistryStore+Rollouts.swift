import Foundation
import Logging
import PostgresNIO
import StrataCore
import StrataWire

/// Rollouts on PostgreSQL: one row per environment, written under the
/// project's row lock, so that registry processes sharing the store take
/// turns and a stale writer sees the version it expected is gone.
extension PostgresRegistryStore {
    package func rollout(of project: String, environment: String) async throws -> StoredRollout? {
        let logger = logger
        return try await withConnection { db in
            _ = try await PostgresRegistryStore.projectRow(db, project, logger)
            let rows = try await db.query("SELECT version, body FROM rollouts WHERE project = \(project) AND environment = \(environment)", logger: logger)
            for try await (version, body) in rows.decode((Int64, String).self) {
                return StoredRollout(rollout: try Rollout(json: try JSON.parse(body)), version: Int(version))
            }
            return nil
        }
    }

    package func saveRollout(_ rollout: Rollout, of project: String, expected: Int?, target: String?, note: AuditNote) async throws -> Bool {
        let logger = logger
        return try await transaction { db in
            // The project's row lock: one rollout write at a time across processes.
            _ = try await PostgresRegistryStore.projectRow(db, project, forUpdate: true, logger)
            if let target, try await PostgresRegistryStore.position(db, of: target, in: project, logger) == nil {
                throw RegistryError.notFound("revision \(target.prefix(12)) is not in project \(project); push it first")
            }
            var stored: Int?
            let rows = try await db.query("SELECT version FROM rollouts WHERE project = \(project) AND environment = \(rollout.environment)", logger: logger)
            for try await (version) in rows.decode(Int64.self) { stored = Int(version) }
            guard stored == expected else { return false }
            let version = Int64((expected ?? 0) + 1), body = rollout.json.canonicalString
            try await db.query("""
                INSERT INTO rollouts (project, environment, version, body) VALUES (\(project), \(rollout.environment), \(version), \(body))
                ON CONFLICT (project, environment) DO UPDATE SET version = excluded.version, body = excluded.body
                """, logger: logger)
            if let target {
                try await db.query("""
                    INSERT INTO environments (project, name, revision, set_by, set_at) VALUES (\(project), \(rollout.environment), \(target), \(note.identity), \(note.at))
                    ON CONFLICT (project, name) DO UPDATE SET revision = excluded.revision, set_by = excluded.set_by, set_at = excluded.set_at
                    """, logger: logger)
            }
            try await PostgresRegistryStore.audit(db, project, note.action, note.identity, note.at, note.detail, logger)
            return true
        }
    }
}
