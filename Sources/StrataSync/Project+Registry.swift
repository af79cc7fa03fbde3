import Foundation
import StrataCore
import StrataStore
import StrataSync

extension Project {
    /// The registry client from strata.toml, with the token from
    /// STRATA_TOKEN or `token_file` (never from the command line).
    public func registryClient() throws -> RegistryClient {
        guard let url = config.registry, !url.isEmpty else { throw SyncError.notConfigured }
        var token = ProcessInfo.processInfo.environment["STRATA_TOKEN"]
        if token == nil, let file = config.tokenFile {
            guard let text = try? String(contentsOfFile: path(file), encoding: .utf8) else {
                throw ProjectError("cannot read token_file \(path(file)) named in \(Config.fileName)")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var caFile: String?
        if let file = config.caFile {
            let resolved = path(file)
            guard FileManager.default.isReadableFile(atPath: resolved) else {
                throw ProjectError("cannot read ca_file \(resolved) named in \(Config.fileName); point it at a PEM file of CA certificates")
            }
            caFile = resolved
        }
        return RegistryClient(baseURL: url, project: config.project, token: token, transport: CurlTransport(caFile: caFile))
    }

    public func syncer() throws -> Syncer { Syncer(project: self, client: try registryClient()) }

    /// The name a database is reported under: its path relative to the project.
    public func databaseName(_ path: String) -> String {
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// Tells the registry (if one is configured) where a database is now.
    /// Returns why the report was queued instead of delivered, or nil.
    public func reportMigration(database path: String, revision: String?, direction: String, environment: String? = nil,
                                now: Int64) -> Error? {
        guard config.registry != nil else { return nil }
        let syncer: Syncer
        do { syncer = try self.syncer() } catch { return error }
        let report = Report(node: config.node, database: databaseName(path), revision: revision ?? "base", direction: direction,
                            at: Timestamp.iso8601(now), environment: environment)
        return syncer.report(report)
    }
}
