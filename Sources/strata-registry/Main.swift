import ArgumentParser
import Foundation
import StrataCore
import StrataRegistry

/// The registry server, in its own executable so that the CLI's commands
/// do not load NIO, Hummingbird and postgres-nio at start-up. `strata
/// registry serve ARGS` runs `strata-registry ARGS` (serve is the default
/// subcommand) and `strata registry migrate-store ARGS` runs
/// `strata-registry migrate-store ARGS`; the CLI looks beside itself, then
/// in `../libexec/strata/`. It can also be run directly.
@main
struct RegistryServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata-registry",
        abstract: "The registry: every project's canonical log, the fleet's state, the audit trail.",
        subcommands: [Serve.self, MigrateStore.self],
        defaultSubcommand: Serve.self)

    /// Ends the process with the error's message and exit status.
    static func fail(_ error: StrataError) -> Never {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        Foundation.exit(error.exitStatus.rawValue)
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Run the registry.",
            discussion: "Stops cleanly on SIGINT or SIGTERM. Prints `strata registry listening on http://HOST:PORT` once bound (--port 0 picks a free port).")

        @Option(help: "Port to listen on (0: any free port).") var port: Int = 8080
        @Option(help: "Address to bind.") var host = "127.0.0.1"
        @Option(help: ArgumentHelp("The registry's store: a SQLite file (or sqlite:PATH), or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE for several registry processes on one store.", valueName: "FILE|URL"))
        var store: String
        @Option(help: ArgumentHelp("Tokens, one `NAME ROLE SECRET [PROJECT,…] [nodes=NODE,…]` per line (read, push, admin).", valueName: "FILE")) var tokens: String?
        @Option(help: ArgumentHelp("Create this project if it does not exist (repeatable).", valueName: "NAME")) var project: [String] = []
        @Option(help: ArgumentHelp("Public keys, one `NAME ed25519:BASE64` per line: every pushed event must be signed by one of them.", valueName: "FILE"))
        var trustedKeys: String?
        @Option(help: "Largest request body accepted, in bytes.") var maxBody: Int = 32 << 20
        @Option(help: "Seconds a connection may send nothing before it is closed.") var idleTimeout: Int = 30
        @Option(help: "Connections open at once; past it new ones wait to be accepted.") var maxConnections: Int = 512
        @Flag(help: "Pages at /ui/PROJECT need no token (the API still does).") var publicRead = false

        func run() async throws {
            var options = RegistryOptions()
            options.host = host
            options.port = port
            options.maxBodyBytes = maxBody
            options.idleTimeoutSeconds = max(1, idleTimeout)
            options.maxConnections = max(1, maxConnections)
            options.publicRead = publicRead
            let boundHost = host
            do {
                try await serveRegistry(store: store, tokensPath: tokens, trustedKeysPath: trustedKeys, projects: project, options: options) { port in
                    // Unbuffered: a script waits for this line.
                    FileHandle.standardOutput.write(Data("strata registry listening on http://\(boundHost):\(port)\n".utf8))
                }
            } catch let error as StrataError {
                RegistryServer.fail(error)
            }
        }
    }

    struct MigrateStore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate-store",
            abstract: "Copy a SQLite registry store to PostgreSQL, and verify the copy.",
            discussion: """
                Copies every project: its events with who pushed them and when, its environments, the fleet's reports and the \
                audit trail. Then reads each project back and compares it with the original (same head, same counts, same \
                entries), and recomputes every event id from the bytes PostgreSQL stored. Refuses, writing nothing, when the \
                target already holds one of the projects. Stop the registry that serves the SQLite store first.
                """)

        @Option(help: ArgumentHelp("The SQLite store to copy.", valueName: "FILE")) var from: String
        @Option(help: ArgumentHelp("The PostgreSQL store to copy into: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.", valueName: "URL")) var to: String

        func run() async throws {
            do {
                guard FileManager.default.fileExists(atPath: from) else {
                    throw RegistryError.invalid("\(from) does not exist; --from names the SQLite file `registry serve --store` used")
                }
                guard to.hasPrefix("postgres://") || to.hasPrefix("postgresql://") else {
                    throw RegistryError.invalid("--to \(to) is not a postgres:// URL; migrate-store copies a SQLite store to PostgreSQL")
                }
                let source = try SQLiteRegistryStore(path: from)
                let target = try await PostgresRegistryStore(url: to)
                defer { target.close() }
                let lines = try await migrateStore(from: source, to: target) { line in
                    FileHandle.standardError.write(Data("\(line)\n".utf8))
                }
                for line in lines { print(line) }
                print("migrated \(lines.count) project\(lines.count == 1 ? "" : "s") from \(from) to \(target.location)")
            } catch let error as StrataError {
                RegistryServer.fail(error)
            }
        }
    }
}
