import ArgumentParser
import Foundation
import StrataCore
import StrataSync

extension StrataCommand {
    struct Registry: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "registry", abstract: "The central registry.", subcommands: [Serve.self, MigrateStore.self, ProjectCommand.self])

        struct ProjectCommand: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "project", abstract: "Projects on the registry.", subcommands: [Create.self])

            struct Create: ParsableCommand {
                static let configuration = CommandConfiguration(
                    commandName: "create",
                    abstract: "Create a project on the configured registry (an admin token, from STRATA_TOKEN or token_file).")

                @OptionGroup var project: ProjectOptions
                @Argument(help: "The new project's name.") var name: String

                func run() throws {
                    let p = try project.open()
                    let client = try p.registryClient(project: name)
                    try client.createProject()
                    print("created project \(name) on \(p.config.registry ?? "")")
                }
            }
        }

        /// Runs `strata-registry migrate-store` (the CLI links no PostgreSQL client).
        struct MigrateStore: ParsableCommand {
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

            func run() throws { try Serve.execServer(["migrate-store", "--from", from, "--to", to]) }
        }

        /// Runs the server executable, `strata-registry`, in this process's
        /// place: the CLI itself links no HTTP server (its start-up stays
        /// small), and signals and output go straight to the server.
        struct Serve: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "serve",
                abstract: "Run the registry: every project's canonical log, the fleet's state, the audit trail.",
                discussion: """
                    Stops cleanly on SIGINT or SIGTERM. Prints `strata registry listening on http://HOST:PORT` once bound (--port 0 \
                    picks a free port). The server is the executable strata-registry, found beside strata or in ../libexec/strata/.
                    """)

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

            func run() throws {
                var args = ["serve", "--port", String(port), "--host", host, "--store", store, "--max-body", String(maxBody), "--idle-timeout", String(idleTimeout),
                            "--max-connections", String(maxConnections)]
                if let tokens { args += ["--tokens", tokens] }
                for p in project { args += ["--project", p] }
                if let trustedKeys { args += ["--trusted-keys", trustedKeys] }
                if publicRead { args.append("--public-read") }
                try Serve.execServer(args)
            }

            /// Replaces this process with `strata-registry ARGS`.
            static func execServer(_ args: [String]) throws {
                let server = try Serve.serverExecutable()
                let argv = ([server] + args).map { strdup($0) } + [nil]
                execv(server, argv)
                throw StrataFailure("cannot run \(server): \(String(cString: strerror(errno)))")
            }

            /// `strata-registry` beside this executable (a build directory,
            /// or PREFIX/bin), else in PREFIX/libexec/strata.
            static func serverExecutable() throws -> String {
                let me = Installation.executable
                let bin = me.deletingLastPathComponent()
                let candidates = [bin.appendingPathComponent("strata-registry"),
                                  bin.deletingLastPathComponent().appendingPathComponent("libexec/strata/strata-registry")]
                guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
                    throw StrataFailure("the registry server strata-registry is not beside \(me.path) nor in \(candidates[1].deletingLastPathComponent().path); "
                        + "build it (`swift build --product strata-registry`, which ops/setup does) and keep it beside strata")
                }
                return found.path
            }
        }
    }
}
