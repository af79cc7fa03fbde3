import Foundation
import StrataCore

/// Why a pushed event's signature is refused.
struct SignatureRefusal: Error, CustomStringConvertible {
    let message: String
    let code: String
    var description: String { message }
}

extension RegistryService {
    /// Who signed each event (trusted names with a trusted-keys file, else
    /// the keys themselves), refusing a signature that does not verify and,
    /// with trusted keys, an unsigned event or an untrusted signer.
    nonisolated func signers(of events: [Event]) throws -> [String] {
        var found: [String] = []
        for e in events {
            guard let signature = e.signature else {
                guard trustedKeys == nil else {
                    throw SignatureRefusal(message: "event \(e.id.prefix(12)) is not signed, and this registry accepts only events signed by a trusted key; "
                        + "sign with `strata keys generate` and `signing_key` in strata.toml, then rebase (`strata sync`) so the events are signed",
                        code: "signature.missing")
                }
                continue
            }
            guard signature.isValid(for: e) else {
                throw SignatureRefusal(message: "the signature of event \(e.id.prefix(12)) by \(signature.signedBy) does not verify: the event or its signature was changed",
                                       code: "signature.invalid")
            }
            let who: String
            if let trustedKeys {
                guard let name = trustedKeys.name(of: signature.signedBy) else {
                    throw SignatureRefusal(message: "event \(e.id.prefix(12)) is signed by \(signature.signedBy), which this registry does not trust; "
                        + "add it to the registry's --trusted-keys file, or sign with a trusted key", code: "signature.untrusted")
                }
                who = name
            } else {
                who = signature.signedBy
            }
            if !found.contains(who) { found.append(who) }
        }
        return found
    }
}
