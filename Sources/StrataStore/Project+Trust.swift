import StrataCore
import StrataSQLite

/// An event this node does not trust (`trusted_keys` in strata.toml).
public struct TrustError: Error, CustomStringConvertible, Sendable {
    public let code: String
    public let message: String
    public var description: String { message }
}

extension TrustError: StrataError {
    public var exitStatus: ExitStatus { .usage }
    public var errorCode: String { code }
}

extension Project {
    /// The keys of `trusted_keys`, read once; nil when the node trusts
    /// whatever it pulls (no such setting).
    public func trustedKeys() throws -> TrustedKeys? {
        if let loaded = loadedTrustedKeys { return loaded }
        guard let file = config.trustedKeys else { loadedTrustedKeys = .some(nil); return nil }
        let keys = try TrustedKeys.load(path: path(file))
        loadedTrustedKeys = .some(keys)
        return keys
    }

    /// Refuses the first event not signed by a trusted key, naming it;
    /// `what` says what was not done (`nothing was pulled`).
    public func checkTrust(_ events: some Sequence<Event>, _ what: String) throws {
        guard let keys = try trustedKeys() else { return }
        for e in events {
            guard let (code, reason) = keys.refusal(of: e, requireSignature: config.signaturesRequired) else { continue }
            throw TrustError(code: code, message: "event \(e.id.prefix(12)) (\(e.message)) \(reason), and this node runs only events signed by a key of "
                + "\(config.trustedKeys ?? "") (trusted_keys in \(Config.fileName)); \(what)")
        }
    }

    /// `Migrator.plan`, once every event it would run forward is trusted.
    /// A way down that undoes an event only the database's records hold
    /// (a copy keeps no signature) is not refused: it removes what ran.
    func trustedPlan(start: Schema, from: String?, to: String?, steps: [MigrationStep], context: MigrationContext) throws -> MigrationPlan {
        try checkTrust(steps.lazy.filter { $0.direction == .up || (try? self.log.contains($0.event.id)) == true }.map(\.event),
                       "nothing was run")
        return try Migrator.plan(start: start, from: from, to: to, steps: steps, context: context)
    }
}
