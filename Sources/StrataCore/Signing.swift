import Crypto
import Foundation

/// An Ed25519 signature of an event's canonical bytes (the bytes whose
/// SHA-256 is its id), and the public key that made it. It lives beside the
/// event, outside its id: signing an event does not change it.
package struct EventSignature: Hashable, Sendable {
    /// The signer's public key, 32 raw bytes.
    package let publicKey: [UInt8]
    /// 64 bytes.
    package let bytes: [UInt8]

    package init(publicKey: [UInt8], bytes: [UInt8]) {
        self.publicKey = publicKey
        self.bytes = bytes
    }

    /// `ed25519:` + base64 of the raw public key.
    package var signedBy: String { EventSignature.keyText(publicKey) }
    /// Base64 of the 64 signature bytes.
    package var text: String { Data(bytes).base64EncodedString() }

    package static func keyText(_ raw: [UInt8]) -> String { "ed25519:" + Data(raw).base64EncodedString() }

    /// Reads the two wire fields, `signed_by` and `signature`.
    package init(signedBy: String, signature: String) throws {
        self.publicKey = try EventSignature.publicKey(signedBy)
        guard let raw = Data(base64Encoded: signature), raw.count == 64 else {
            throw SigningError("a signature is 64 bytes in base64; this one is not")
        }
        self.bytes = Array(raw)
    }

    /// `ed25519:BASE64` -> 32 raw bytes.
    package static func publicKey(_ text: String) throws -> [UInt8] {
        guard text.hasPrefix("ed25519:"), let raw = Data(base64Encoded: String(text.dropFirst(8))), raw.count == 32 else {
            throw SigningError("\(text.prefix(60)) is not a public key: expected ed25519: and the base64 of 32 bytes")
        }
        return Array(raw)
    }

    /// Whether this signature was made by `publicKey` over `event`'s canonical bytes.
    package func isValid(for event: Event) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(bytes, for: event.canonicalBytes)
    }
}

package struct SigningError: Error, CustomStringConvertible, Sendable {
    /// Where a caller may say how to make what was expected (the CLI names
    /// `strata keys generate`; this layer names no command).
    package enum Reason: Sendable { case notASigningKey(source: String), notAKeyLine, other }
    package let message: String
    package let reason: Reason
    package init(_ message: String, reason: Reason = .other) {
        self.message = message
        self.reason = reason
    }
    package var description: String { message }
}

extension SigningError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "signing" }
}

/// A node's private key. Its file is strata's own two lines (a header and
/// the base64 of the 32-byte seed), or an unencrypted OpenSSH ed25519 key
/// (`ssh-keygen -t ed25519 -N ""`).
package struct SigningKey: Sendable {
    /// The 32-byte seed (the private key's raw form).
    let seed: [UInt8]
    var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: seed) }

    package static let header = "strata ed25519 private key"

    package static func generate() -> SigningKey { SigningKey(checkedSeed: Array(Curve25519.Signing.PrivateKey().rawRepresentation)) }

    package init(seed: [UInt8]) throws {
        guard (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)) != nil else {
            throw SigningError("an Ed25519 private key is a 32-byte seed")
        }
        self.seed = seed
    }

    init(checkedSeed: [UInt8]) { seed = checkedSeed }

    /// Reads a key file's text; `source` names it in errors.
    package init(fileText text: String, source: String) throws {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        if lines.first == SigningKey.header, lines.count >= 2, let seed = Data(base64Encoded: lines[1]), seed.count == 32 {
            try self.init(seed: Array(seed))
        } else if lines.first == "-----BEGIN OPENSSH PRIVATE KEY-----" {
            let body = lines.dropFirst().prefix { !$0.hasPrefix("-----END") }.joined()
            guard let blob = Data(base64Encoded: body) else { throw SigningError("\(source): the OpenSSH key is not valid base64") }
            try self.init(seed: try SigningKey.openSSHSeed(Array(blob), source: source))
        } else {
            throw SigningError("\(source) is not a signing key: an OpenSSH ed25519 key or a strata key file was expected", reason: .notASigningKey(source: source))
        }
    }

    /// The file `keys generate` writes.
    package var fileText: String { "\(SigningKey.header)\n\(Data(seed).base64EncodedString())\n" }

    package var publicKey: [UInt8] { Array(key.publicKey.rawRepresentation) }
    package var publicKeyText: String { EventSignature.keyText(publicKey) }

    /// The signature of `event`'s canonical bytes.
    package func signature(for event: Event) throws -> EventSignature {
        EventSignature(publicKey: publicKey, bytes: Array(try key.signature(for: event.canonicalBytes)))
    }

    /// `event`, signed.
    package func sign(_ event: Event) throws -> Event {
        var signed = event
        signed.signature = try signature(for: event)
        return signed
    }

    /// The seed of an unencrypted `openssh-key-v1` ed25519 key
    /// (https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.key).
    static func openSSHSeed(_ blob: [UInt8], source: String) throws -> [UInt8] {
        var at = 0
        func fail(_ why: String) -> SigningError { SigningError("\(source): \(why)") }
        func take(_ n: Int) throws -> [UInt8] {
            guard at + n <= blob.count else { throw fail("the OpenSSH key is truncated") }
            defer { at += n }
            return Array(blob[at..<(at + n)])
        }
        func uint32() throws -> Int { try take(4).reduce(0) { $0 << 8 | Int($1) } }
        func string() throws -> [UInt8] { try take(try uint32()) }
        let magic = Array("openssh-key-v1\0".utf8)
        guard try take(magic.count) == magic else { throw fail("not an openssh-key-v1 private key") }
        guard try string() == Array("none".utf8) else { throw fail("the OpenSSH key is encrypted; strata needs one without a passphrase (ssh-keygen -N \"\")") }
        _ = try string() // kdf name
        _ = try string() // kdf options
        guard try uint32() == 1 else { throw fail("the OpenSSH file holds several keys; give it one") }
        _ = try string() // public key blob
        return try SigningKey.privateSection(try string(), source: source)
    }

    static func privateSection(_ blob: [UInt8], source: String) throws -> [UInt8] {
        var at = 0
        func fail(_ why: String) -> SigningError { SigningError("\(source): \(why)") }
        func take(_ n: Int) throws -> [UInt8] {
            guard at + n <= blob.count else { throw fail("the OpenSSH key is truncated") }
            defer { at += n }
            return Array(blob[at..<(at + n)])
        }
        func uint32() throws -> Int { try take(4).reduce(0) { $0 << 8 | Int($1) } }
        func string() throws -> [UInt8] { try take(try uint32()) }
        guard try take(4) == (try take(4)) else { throw fail("the OpenSSH key's check numbers differ (a wrong passphrase?)") }
        guard try string() == Array("ssh-ed25519".utf8) else { throw fail("not an ed25519 key; strata signs with Ed25519 (ssh-keygen -t ed25519)") }
        _ = try string() // public key
        let secret = try string() // seed (32) + public key (32)
        guard secret.count == 64 else { throw fail("the ed25519 secret is not 64 bytes") }
        return Array(secret.prefix(32))
    }
}

extension Event {
    /// This event with the signature a store keeps beside it (its two
    /// columns; none when either is empty).
    package func withStoredSignature(signedBy: String?, signature: String?) throws -> Event {
        guard let signedBy, let signature else { return self }
        var e = self
        e.signature = try EventSignature(signedBy: signedBy, signature: signature)
        return e
    }
}

/// A trusted-keys file (`registry serve --trusted-keys FILE`, and
/// `trusted_keys` in a node's strata.toml): one `NAME PUBLIC_KEY` per line
/// (`#` comments; `ed25519:BASE64` as `strata keys generate` prints it). A
/// name may have several keys, for rotation.
package struct TrustedKeys: Sendable {
    private var names: [String: String] = [:] // signed_by -> name

    package init(text: String, source: String) throws {
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard parts.count == 2, (try? EventSignature.publicKey(parts[1])) != nil else {
                throw SigningError("\(source):\(n + 1): expected `NAME ed25519:BASE64`", reason: .notAKeyLine)
            }
            names[parts[1]] = parts[0]
        }
    }

    package static func load(path: String) throws -> TrustedKeys {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SigningError("cannot read the trusted keys file \(path); write one `NAME ed25519:BASE64` line per trusted key")
        }
        return try TrustedKeys(text: text, source: path)
    }

    /// The trusted name of a key, if it is trusted.
    package func name(of signedBy: String) -> String? { names[signedBy] }
}


extension TrustedKeys {
    /// Why `e` is not trusted (nil when it is): a signature that does not
    /// verify always, and with `requireSignature` a missing one, or one by
    /// a key this file does not hold.
    package func refusal(of e: Event, requireSignature: Bool) -> (code: String, reason: String)? {
        guard let signature = e.signature else {
            return requireSignature ? ("signature.missing", "is not signed") : nil
        }
        guard signature.isValid(for: e) else {
            return ("signature.invalid", "has a signature by \(signature.signedBy) that does not verify: the event or its signature was changed")
        }
        guard name(of: signature.signedBy) != nil else {
            return ("signature.untrusted", "is signed by \(signature.signedBy), which is not a trusted key")
        }
        return nil
    }
}
