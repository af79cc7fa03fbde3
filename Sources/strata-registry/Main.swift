import ArgumentParser
import Foundation
import StrataCore
import StrataRegistry

/// The registry server, in its own executable so that the CLI's commands
/// do not load NIO and Hummingbird at start-up. `strata registry serve ARGS`
/// runs `strata-registry ARGS` (it looks beside itself, then in
/// `../libexec/strata/`); it can also be run directly.
@main
struct RegistryServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata-registry",
        abstract: "Run the registry: every project's canonical log, the fleet's state, the audit trail.",
        discussion: "Stops cleanly on SIGINT or SIGTERM. Prints `strata registry listening on http://HOST:PORT` once bound (--port 0 picks a free port).")

    @Option(help: "Port to listen on (0: any free port).") var port: Int = 8080
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: ArgumentHelp("The registry's store: a SQLite file (or sqlite:PATH), or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE for several registry processes on one store.", valueName: "FILE|URL"))
    var store: String
    @Option(help: ArgumentHelp("Tokens, one `NAME ROLE SECRET` per line (read, push, admin).", valueName: "FILE")) var tokens: String?
    @Option(help: ArgumentHelp("Create this project if it does not exist (repeatable).", valueName: "NAME")) var project: [String] = []
    @Option(help: ArgumentHelp("Public keys, one `NAME ed25519:BASE64` per line: every pushed event must be signed by one of them.", valueName: "FILE"))
    var trustedKeys: String?
    @Option(help: "Largest request body accepted, in bytes.") var maxBody: Int = 32 << 20

    func run() async throws {
        var options = RegistryOptions()
        options.host = host
        options.port = port
        options.maxBodyBytes = maxBody
        let boundHost = host
        do {
            try await serveRegistry(store: store, tokensPath: tokens, trustedKeysPath: trustedKeys, projects: project, options: options) { port in
                // Unbuffered: a script waits for this line.
                FileHandle.standardOutput.write(Data("strata registry listening on http://\(boundHost):\(port)\n".utf8))
            }
        } catch let error as StrataError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            Foundation.exit(error.exitStatus.rawValue)
        }
    }
}
