import Foundation
import XCTest

/// Signed events end to end: `keys generate`, `signing_key`, `verify`
/// (forged, unsigned, --since), an OpenSSH key, and a registry given
/// `--trusted-keys` that refuses unsigned and untrusted events.
final class SigningTests: XCTestCase {
    /// A node that signs with a new key; returns its public key.
    func signingNode(_ cli: CLI) throws -> String {
        let key = try cli.ok("keys", "generate", "--out", ".strata/signing.key")
        XCTAssertEqual(key.stderr, "warning: wrote the private key to .strata/signing.key (mode 0600); sign with it: signing_key = \".strata/signing.key\" in strata.toml\n")
        let mode = try FileManager.default.attributesOfItem(atPath: cli.path(".strata/signing.key"))[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        try cli.write("strata.toml", try cli.read("strata.toml") + "signing_key = \".strata/signing.key\"\n")
        return key.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testEventsAreSignedAndVerifiedOffline() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        // Unsigned history first: the node starts signing later.
        try cli.write("models.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n")
        let first = try cli.ok("revision", "--autogenerate", "-m", "a").lines[0]
        let key = try signingNode(cli)
        XCTAssertTrue(key.hasPrefix("ed25519:") && key.count == 52, key)
        try cli.write("models.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE b (id INTEGER PRIMARY KEY);\n")
        let second = try cli.ok("revision", "--autogenerate", "-m", "b").lines[0]
        XCTAssertTrue(try cli.ok("show", second).lines.contains("signed   by \(key)"))
        XCTAssertTrue(try cli.ok("show", first).lines.contains("signed   no"))
        let history = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try cli.ok("history", "--json").stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(history[0]["signed_by"] as? String, key)
        XCTAssertEqual((history[0]["signature"] as? String)?.count, 88)
        XCTAssertNil(history[1]["signed_by"])

        XCTAssertEqual(try cli.ok("verify").stdout, "ok: 2 events, ids, links and signatures verified\n")
        let strict = try cli.run("verify", "--require-signatures")
        XCTAssertEqual(strict.status, 1)
        XCTAssertEqual(strict.lines.first, "MISMATCH event #1 \(first.prefix(12)): it is not signed")
        XCTAssertEqual(try cli.ok("verify", "--require-signatures", "--since", String(second.prefix(8))).status, 0)

        // A signature changed in the log no longer verifies, and verify names the event.
        _ = try cli.sqlite(".strata/log.db", "UPDATE signatures SET signature = '\(String(repeating: "A", count: 86))=='")
        let forged = try cli.run("verify")
        XCTAssertEqual(forged.status, 1)
        XCTAssertEqual(forged.lines.first, "MISMATCH event #2 \(second.prefix(12)): its signature by \(key) does not verify: the event or its signature was changed after signing")

        // A key file that is not a key: an error that says what to do, nothing recorded.
        try cli.write(".strata/signing.key", "not a key\n")
        try cli.write("models.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n")
        let before = try cli.tree()
        let bad = try cli.run("revision", "--autogenerate", "-m", "drop b")
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.stderr, "error: \(cli.path(".strata/signing.key")) is not a signing key: make one with `strata keys generate --out \(cli.path(".strata/signing.key"))`, or name an OpenSSH ed25519 key\n")
        XCTAssertEqual(try cli.tree(), before)
        XCTAssertEqual(try cli.run("keys", "generate", "--out", ".strata/signing.key").status, 2, "an existing key is never replaced")

        // A trusted-keys file with a line that is not a key: the CLI says where such lines come from.
        try cli.write("team.keys", "ana not-a-key\n")
        try cli.write("strata.toml", try cli.read("strata.toml") + "trusted_keys = \"team.keys\"\n")
        let untrusted = try cli.run("upgrade", "head")
        XCTAssertEqual(untrusted.status, 2)
        XCTAssertEqual(untrusted.stderr, "error: \(cli.path("team.keys")):1: expected `NAME ed25519:BASE64` (a public key as `strata keys generate` prints it)\n")
    }

    /// An unencrypted OpenSSH ed25519 key (Fixtures/openssh, made once with
    /// `ssh-keygen -t ed25519 -N ""`; a test key, nothing else uses it) signs
    /// as strata's own key file does.
    func testAnOpenSSHKeySigns() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "models.sql", "--db", "app.db")
        let fixture = "\(ImportTests.fixtures)/openssh/id_ed25519"
        try cli.write("strata.toml", try cli.read("strata.toml") + "signing_key = \"\(fixture)\"\n")
        try cli.write("models.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n")
        try cli.ok("revision", "--autogenerate", "-m", "a")
        // The same public key as OpenSSH's own .pub file, in strata's spelling.
        let pub = try String(contentsOfFile: fixture + ".pub", encoding: .utf8).split(separator: " ")[1]
        let raw = try XCTUnwrap(Data(base64Encoded: String(pub))).suffix(32)
        XCTAssertTrue(try cli.ok("show", "head").lines.contains("signed   by ed25519:\(raw.base64EncodedString())"))
        try cli.ok("verify", "--require-signatures")
    }

    func testARegistryWithTrustedKeysRefusesUnsignedAndUntrustedEvents() throws {
        let signer = try CLI()
        let key = try signer.ok("keys", "generate", "--out", "k").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let stranger = try CLI()
        let strangerKey = try stranger.ok("keys", "generate", "--out", "k").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let trusted = FileManager.default.temporaryDirectory.appendingPathComponent("trusted-\(UUID().uuidString)").path
        try "# NAME PUBLIC_KEY\nana \(key)\n".write(toFile: trusted, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: trusted) }
        let registry = try RegistryProcess(extraArguments: ["--trusted-keys", trusted])

        func node(_ name: String, key: CLI?) throws -> CLI {
            let cli = try CLI.node(name, registry: registry, token: "s3cret-ana")
            if let key {
                try FileManager.default.copyItem(atPath: key.path("k"), toPath: cli.path("k"))
                try cli.write("strata.toml", try cli.read("strata.toml") + "signing_key = \"k\"\n")
            }
            try cli.write("models.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
            try cli.ok("revision", "--autogenerate", "-m", "users by \(name)")
            return cli
        }
        let unsigned = try node("unsigned", key: nil)
        let refused = try unsigned.run("push")
        XCTAssertEqual(refused.status, 4)
        XCTAssertTrue(refused.stderr.contains("is not signed, and this registry accepts only events signed by a trusted key"), refused.stderr)
        let untrusted = try node("untrusted", key: stranger)
        let refused2 = try untrusted.run("push")
        XCTAssertEqual(refused2.status, 4)
        XCTAssertTrue(refused2.stderr.contains("is signed by \(strangerKey), which this registry does not trust"), refused2.stderr)

        let good = try node("good", key: signer)
        try good.ok("push")
        // The audit trail names the signer; another node pulls the signature and verifies it offline.
        let audit = try good.ok("audit", "--json").stdout
        XCTAssertTrue(audit.contains("\"signed_by\": [\n") && audit.contains("\"ana\""), audit)
        let reader = try CLI.node("reader", registry: registry, token: "s3cret-view")
        try reader.ok("pull")
        XCTAssertTrue(try reader.ok("show", "head").lines.contains("signed   by \(key)"))
        try reader.ok("verify", "--require-signatures")
        XCTAssertEqual(try reader.ok("history").lines.count, 4, "nothing from the refused pushes")

        // A rebase re-hashes the unpushed event; the node signs it again, so the registry takes it.
        func signedNode(_ name: String, models: String) throws -> CLI {
            let cli = try CLI.node(name, registry: registry, token: "s3cret-ana")
            try FileManager.default.copyItem(atPath: signer.path("k"), toPath: cli.path("k"))
            try cli.write("strata.toml", try cli.read("strata.toml") + "signing_key = \"k\"\n")
            try cli.ok("pull")
            try cli.write("models.sql", models)
            try cli.ok("revision", "--autogenerate", "-m", name)
            return cli
        }
        let late = try signedNode("tags", models: "CREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE tags (id INTEGER PRIMARY KEY);\n")
        let early = try signedNode("posts", models: "CREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE posts (id INTEGER PRIMARY KEY);\n")
        try early.ok("push")
        let unrebased = try late.ids()[0]
        XCTAssertEqual(try late.run("push").status, 3, "stale: the registry moved on")
        try late.ok("sync")
        let rebased = try late.ids()[0]
        XCTAssertNotEqual(rebased, unrebased)
        try reader.ok("pull")
        XCTAssertEqual(try reader.ids()[0], rebased)
        XCTAssertTrue(try reader.ok("show", "head").lines.contains("signed   by \(key)"))
        try reader.ok("verify", "--require-signatures")
    }
}
