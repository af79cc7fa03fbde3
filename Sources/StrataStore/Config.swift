import StrataCore
import Foundation
import TOMLKit

/// `strata.toml`: a project's settings.
package struct Config: Equatable, Sendable {
    package var project: String
    package var node: String
    package var author: String
    package var models: String
    package var databases: [String]
    package var log: String
    package var registry: String?
    package var tokenFile: String?
    /// CA certificates (PEM) trusted for an https registry instead of the system's.
    package var caFile: String?
    /// The Python that renders a `models.py` (a virtualenv's, say); default `python3`.
    package var python: String?
    /// Where the models' SQLAlchemy `MetaData` is (`app.db:Base.metadata`), when guessing is ambiguous.
    package var modelsMetadata: String?
    /// A command that prints the desired schema as SQLite DDL (used instead of the models file).
    package var modelsCommand: String?
    /// Keep what destructive ops remove in each database (`strata_trash`) so that
    /// their inverses bring it back; default true.
    package var keepDroppedData = true
    /// The private key (`strata keys generate`) that signs every event this node creates.
    package var signingKey: String?
    /// SQL functions the application registers on its connections and its
    /// migrations call (`BIN2B64`): strata prepares statements that name
    /// them, and refuses to run one that reaches a row
    /// (`ApplicationFunctions`).
    package var appFunctions: [String] = []
    /// Tables (and their indexes and triggers) that something else manages,
    /// as glob patterns (`fts_*`, `legacy_table`): autogenerate neither
    /// creates, changes nor drops them, and `check` does not report them.
    package var exclude: [String] = []
    /// Whether a different column order is a change (a rebuild). Unset: on
    /// for a hand-written DDL models file, off for SQLAlchemy models and a
    /// `models_command`, whose renderers write columns in class order while
    /// ADD COLUMN appends them.
    package var compareColumnOrder: Bool?
    /// A trusted-keys file (`NAME ed25519:BASE64` lines): the keys whose
    /// events this node pulls and runs.
    package var trustedKeys: String?
    /// With `trusted_keys`: whether an unsigned event is refused too
    /// (default true); a signature that does not verify, or one by a key
    /// the file does not hold, is always refused.
    package var requireSignatures: Bool?
    /// The environment this node follows (`strata agent` without `--env`).
    package var environment: String?

    /// Whether every event must be signed by a trusted key.
    package var signaturesRequired: Bool { trustedKeys != nil && requireSignatures != false }

    package static let fileName = "strata.toml"

    package init(project: String, node: String, author: String, models: String, databases: [String],
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

    package init(toml text: String, source: String) throws {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw ConfigError("\(source): line \(e.source.begin.line): \(e.description)")
        }
        let known: Set<String> = ["project", "node", "author", "models", "databases", "log", "registry", "token_file", "ca_file",
                                  "python", "models_metadata", "models_command", "keep_dropped_data", "signing_key",
                                  "app_functions", "exclude", "compare_column_order", "trusted_keys", "require_signatures", "environment"]
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
        func strings(_ key: String, _ what: String) throws -> [String] {
            guard let v = table[key] else { return [] }
            guard let array = v.array else { throw ConfigError("\(source): \(key) must be an array of \(what)") }
            return try array.map {
                guard let s = $0.string else { throw ConfigError("\(source): \(key) must be an array of \(what)") }
                return s
            }
        }
        func bool(_ key: String) throws -> Bool? {
            guard let v = table[key] else { return nil }
            guard let b = v.bool else { throw ConfigError("\(source): \(key) must be true or false") }
            return b
        }
        let databases = try strings("databases", "paths")
        self.init(project: try required("project"), node: try required("node"), author: try required("author"),
                  models: try required("models"), databases: databases, log: try string("log") ?? ".strata/log.db",
                  registry: try string("registry"), tokenFile: try string("token_file"), caFile: try string("ca_file"),
                  python: try string("python"), modelsMetadata: try string("models_metadata"), modelsCommand: try string("models_command"))
        signingKey = try string("signing_key")
        keepDroppedData = try bool("keep_dropped_data") ?? true
        appFunctions = try strings("app_functions", "function names")
        if let bad = appFunctions.first(where: { $0.isEmpty || !$0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }) {
            throw ConfigError("\(source): app_functions: \"\(bad)\" is not a function name (letters, digits and _)")
        }
        exclude = try strings("exclude", "table name patterns")
        compareColumnOrder = try bool("compare_column_order")
        trustedKeys = try string("trusted_keys")
        requireSignatures = try bool("require_signatures")
        environment = try string("environment")
        if environment?.isEmpty == true { throw ConfigError("\(source): environment must name one, as environment = \"prod\"") }
        if requireSignatures == true && trustedKeys == nil {
            throw ConfigError("\(source): require_signatures needs trusted_keys: name the file of the keys to trust (trusted_keys = \"team.keys\", or `strata init --trust FILE`)")
        }
    }

    package var toml: String {
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
        if !appFunctions.isEmpty { lines.append("app_functions = [\(appFunctions.map(q).joined(separator: ", "))]") }
        if !exclude.isEmpty { lines.append("exclude = [\(exclude.map(q).joined(separator: ", "))]") }
        if let compareColumnOrder { lines.append("compare_column_order = \(compareColumnOrder)") }
        if let trustedKeys { lines.append("trusted_keys = \(q(trustedKeys))") }
        if let requireSignatures { lines.append("require_signatures = \(requireSignatures)") }
        if let environment { lines.append("environment = \(q(environment))") }
        return lines.joined(separator: "\n") + "\n"
    }
}

package struct ConfigError: Error, CustomStringConvertible, Sendable {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

extension ConfigError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "config.invalid" }
}
