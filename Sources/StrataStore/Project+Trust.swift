import StrataCore
import StrataSQLite

/// An event this node does not trust (`trusted_keys` in strata.toml).
package struct TrustError: Error, CustomStringConvertible, Sendable {
    package let code: String
    package let message: String
    package var description: String { message }
}

extension TrustError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { code }
}

extension Project {
    /// The keys of `trusted_keys`, read once; nil when the node trusts
    /// whatever it pulls (no such setting).
    package func trustedKeys() throws -> TrustedKeys? {
        if let loaded = loadedTrustedKeys { return loaded }
        guard let file = config.trustedKeys else { loadedTrustedKeys = .some(nil); return nil }
        let keys = try TrustedKeys.load(path: path(file))
        loadedTrustedKeys = .some(keys)
        return keys
    }

    /// Refuses the first event not signed by a trusted key, naming it;
    /// `what` says what was not done (`nothing was pulled`).
    package func checkTrust(_ events: some Sequence<Event>, _ what: String) throws {
        guard let keys = try trustedKeys() else { return }
        try Project.check(events, against: keys, required: config.signaturesRequired, file: config.trustedKeys ?? "", what)
    }

    static func check(_ events: some Sequence<Event>, against keys: TrustedKeys, required: Bool, file: String, _ what: String) throws {
        for e in events {
            guard let (code, reason) = keys.refusal(of: e, requireSignature: required) else { continue }
            throw TrustError(code: code, message: "event \(e.id.prefix(12)) (\(e.message)) \(reason), and this node runs only events signed by a key of "
                + "\(file) (trusted_keys in \(Config.fileName)); \(what)")
        }
    }
}
