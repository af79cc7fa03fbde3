import StrataCore
import Foundation
import TOMLKit

/// `strata.toml`: a project's settings.
public struct Config: Equatable, Sendable {
    public var project: String
    public var node: String
    public var author: String
    public var models: String
    public var databases: [String]
    public var log: String
    public var registry: String?
    public var tokenFile: String?
    /// CA certificates (PEM) trusted for an https registry instead of the system's.
    public var caFile: String?
    /// The Python that renders a `models.py` (a virtualenv's, say); default `python3`.
    public var python: String?
    /// Where the models' SQLAlchemy `MetaData` is (`app.db:Base.metadata`), when guessing is ambiguous.
    public var modelsMetadata: String?
    /// A command that prints the desired schema as SQLite DDL (used instead of the models file).
    public var modelsCommand: String?
    /// Keep what destructive ops remove in each database (`strata_trash`) so that
    /// their inverses bring it back; default true.
    public var keepDroppedData = true
    /// The private key (`strata keys generate`) that signs every event this node creates.
    public var signingKey: String?

    public static let fileName = "strata.toml"

    public init(project: String, node: String, author: String, models: String, databases: [String],
                log: String = ".strata/log.db", registry: String? = nil, tokenFile: String? = nil, caFile: String? = nil,
                python: String? = nil, modelsMetadata: String? = nil, modelsCommand: String? = nil) {
        self.project = project
        self.node = node
        self.author = author
        self.models = models
        self.databases = databases
        self.log = log
        self.registry = registry
        self.tokenFile = tokenFile
        self.caFile = caFile
        self.python = python
        self.modelsMetadata = modelsMetadata
        self.modelsCommand = modelsCommand
    }

    public init(toml text: String, source: String) throws {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw ConfigError("\(source): line \(e.source.begin.line): \(e.description)")
        }
        let known: Set<String> = ["project", "node", "author", "models", "databases", "log", "registry", "token_file", "ca_file",
                                  "python", "models_metadata", "models_command", "keep_dropped_data", "signing_key"]
        if let extra = table.keys.first(where: { !known.contains($0) }) {
            throw ConfigError("\(source): unknown setting \"\(extra)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws -> String? {
            guard let v = table[key] else { return nil }
            guard let s = v.string else { throw ConfigError("\(source): \(key) must be a string") }
            return s
        }
        func required(_ key: String) throws -> String {
            guard let s = try string(key), !s.isEmpty else { throw ConfigError("\(source): \(key) is missing; add `\(key) = \"...\"`") }
            return s
        }
        var databases: [String] = []
        if let v = table["databases"] {
            guard let array = v.array else { throw ConfigError("\(source): databases must be an array of paths") }
            for item in array {
                guard let s = item.string else { throw ConfigError("\(source): databases must be an array of paths") }
                databases.append(s)
            }
        }
        self.init(project: try required("project"), node: try required("node"), author: try required("author"),
                  models: try required("models"), databases: databases, log: try string("log") ?? ".strata/log.db",
                  registry: try string("registry"), tokenFile: try string("token_file"), caFile: try string("ca_file"),
                  python: try string("python"), modelsMetadata: try string("models_metadata"), modelsCommand: try string("models_command"))
        signingKey = try string("signing_key")
        if let v = table["keep_dropped_data"] {
            guard let b = v.bool else { throw ConfigError("\(source): keep_dropped_data must be true or false") }
            keepDroppedData = b
        }
    }

    public var toml: String {
        func q(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var lines = [
            "# strata project settings (README.md, \"strata.toml\")",
            "project = \(q(project))",
            "node = \(q(node))",
            "author = \(q(author))",
            "models = \(q(models))",
            "databases = [\(databases.map(q).joined(separator: ", "))]",
            "log = \(q(log))",
        ]
        lines.append(registry.map { "registry = \(q($0))" } ?? "# registry = \"http://127.0.0.1:8080\"")
        lines.append(tokenFile.map { "token_file = \(q($0))" } ?? "# token_file = \"~/.strata/token\"   (or set STRATA_TOKEN)")
        if let caFile { lines.append("ca_file = \(q(caFile))") }
        if let python { lines.append("python = \(q(python))") }
        if let modelsMetadata { lines.append("models_metadata = \(q(modelsMetadata))") }
        if let modelsCommand { lines.append("models_command = \(q(modelsCommand))") }
        if !keepDroppedData { lines.append("keep_dropped_data = false") }
        if let signingKey { lines.append("signing_key = \(q(signingKey))") }
        return lines.joined(separator: "\n") + "\n"
    }
}

public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ConfigError: StrataError {
    public var exitStatus: ExitStatus { .usage }
    public var errorCode: String { "config.invalid" }
}
