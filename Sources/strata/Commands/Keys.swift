import ArgumentParser
import Foundation
import StrataCore
import StrataStore

extension StrataCommand {
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keys",
            abstract: "Keys that sign events.",
            subcommands: [Generate.self])

        struct Generate: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "generate",
                abstract: "Write a new Ed25519 private key (mode 0600) and print its public key.",
                discussion: """
                    Name the file in strata.toml (`signing_key = "PATH"`) and every event this node creates is signed: its \\
                    canonical bytes, the ones whose SHA-256 is its id. Give the public key (ed25519:BASE64) to the registry's \\
                    --trusted-keys file. An unencrypted OpenSSH ed25519 key (ssh-keygen -t ed25519 -N "") works as signing_key too.
                    """)

            @Option(help: ArgumentHelp("Where to write the private key.", valueName: "FILE"))
            var out: String = ".strata/signing.key"

            func run() throws {
                guard !FileManager.default.fileExists(atPath: out) else {
                    throw StrataFailure("\(out) exists; a new key would replace the one that signed your events: choose another --out, or remove it first")
                }
                let key = SigningKey.generate()
                try FileManager.default.createDirectory(at: URL(fileURLWithPath: out).deletingLastPathComponent(), withIntermediateDirectories: true)
                // Created with mode 0600 by open(2) itself (O_EXCL: never over another file), so
                // the key is never readable by others, not even between writing and chmod.
                let fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0o600)
                guard fd >= 0 else { throw StrataFailure("cannot write \(out): \(String(cString: strerror(errno))); choose another --out") }
                let bytes = Array(key.fileText.utf8)
                let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
                guard written == bytes.count else { throw StrataFailure("cannot write \(out); choose another --out") }
                print(key.publicKeyText)
                warn("wrote the private key to \(out) (mode 0600); sign with it: signing_key = \"\(out)\" in strata.toml")
            }
        }
    }
}
