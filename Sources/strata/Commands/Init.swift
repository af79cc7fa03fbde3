import ArgumentParser
import Foundation
import StrataStore

extension StrataCommand {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create strata.toml and an empty local log.",
            discussion: "In a directory that already holds a strata.toml (a checked-in project), creates only the local log and keeps the file.")

        @OptionGroup var project: ProjectOptions

        @Option(help: ArgumentHelp("The models file: the desired schema as SQLite DDL.", valueName: "PATH"))
        var models = "models.sql"

        @Option(help: ArgumentHelp("A database to migrate (repeatable).", valueName: "PATH"))
        var db: [String] = []

        @Option(help: "Who signs revisions (default: $STRATA_AUTHOR, else user@host).")
        var author: String?

        @Option(help: ArgumentHelp("The registry's URL.", valueName: "URL"))
        var registry: String?

        @Option(name: .customLong("project"), help: "The log's name on the registry (default: the directory's name).")
        var projectName: String?

        @Option(help: "This node's name (default: the host name).")
        var node: String?

        @Option(help: ArgumentHelp("A trusted-keys file (`NAME ed25519:BASE64` per line): pull and run only events signed by one of its keys.",
                                   valueName: "FILE"))
        var trust: String?

        func run() throws {
            let env = ProcessInfo.processInfo.environment
            let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
            let dirName = URL(fileURLWithPath: project.directory).standardizedFileURL.lastPathComponent
            var config = Config(
                project: projectName ?? dirName,
                node: node ?? host,
                author: author ?? env["STRATA_AUTHOR"] ?? "\(env["USER"] ?? "strata")@\(host)",
                models: models,
                databases: db.isEmpty ? ["app.db"] : db,
                registry: registry)
            config.trustedKeys = trust
            let p = try Project.initialize(directory: project.directory, config: config, defaultPython: Installation.python)
            print("Initialized strata project \(p.config.project) (node \(p.config.node)) in \(p.root.path)")
            print("  models:    \(p.config.models)")
            print("  databases: \(p.config.databases.joined(separator: ", "))")
            print("  log:       \(p.config.log)")
            if let registry = p.config.registry { print("  registry:  \(registry)") }
            if let trust = p.config.trustedKeys { print("  trusts:    the keys of \(trust) (every event must be signed by one)") }
        }
    }
}
