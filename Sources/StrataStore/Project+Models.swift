import Foundation
import StrataCore
import StrataSQLite

/// Where the desired schema comes from: a file of SQLite DDL, a Python file
/// of SQLAlchemy models (rendered by SQLAlchemy itself, with no database),
/// or any command that prints SQLite DDL. Whatever the source, the result is
/// DDL that SQLite itself parses.
extension Project {
    /// The schema the models declare.
    package func modelsSchema() throws -> Schema {
        let (ddl, source) = try modelsDDL()
        return try Models.schema(fromDDL: ddl, source: source)
    }

    /// The models as SQLite DDL, and how to name their source in an error.
    package func modelsDDL() throws -> (ddl: String, source: String) {
        if let command = config.modelsCommand { return (try commandDDL(command), "the output of models_command `\(command)`") }
        if config.models.hasSuffix(".py") { return (try sqlalchemyDDL(), config.models) }
        let file = path(config.models)
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ProjectError("cannot read the models file \(file); create it or fix `models` in \(Config.fileName)")
        }
        return (text, config.models)
    }

    func commandDDL(_ command: String) throws -> String {
        let run = try Subprocess.run("/bin/sh", ["-c", command], in: root.path)
        guard run.status == 0 else {
            throw ProjectError("models_command `\(command)` failed (exit \(run.status)): \(run.lastErrorLine); fix the command in \(Config.fileName) and run again")
        }
        return run.stdout
    }

    func sqlalchemyDDL() throws -> String {
        let file = path(config.models)
        guard FileManager.default.fileExists(atPath: file) else {
            throw ProjectError("cannot read the models file \(file); create it or fix `models` in \(Config.fileName)")
        }
        // The DDL comes back in a file of strata's own: what the module prints
        // on stdout as it is imported (`dotenv not installed, skipping...`) is not models.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("strata-models-\(UUID().uuidString).sql").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try Subprocess.run("/usr/bin/env", [python, "-c", Project.renderScript, root.path, file, config.modelsMetadata ?? "", out], in: root.path)
        switch run.status {
        case 0: return try Folders.text(out)
        case 127:
            throw ProjectError("cannot run `\(python)` to read \(config.models) (\(run.lastErrorLine)); install Python 3, or set `python = \"PATH\"` in \(Config.fileName) (a virtualenv's interpreter)")
        case 3:
            throw ProjectError("SQLAlchemy is not installed for `\(python)` (\(run.lastErrorLine)); run `\(python) -m pip install SQLAlchemy`, or set `python` in \(Config.fileName) to the interpreter of the virtualenv that has it")
        case 4:
            throw ProjectError("\(config.models) does not import: \(run.lastErrorLine); fix it (or what it imports) and run again")
        default:
            throw ProjectError("\(config.models): \(run.lastErrorLine)")
        }
    }

    /// Imports the models module with the project root on `sys.path`, finds
    /// its `MetaData` (a declarative base's, or a module-level one; or the one
    /// `models_metadata` names) and writes what `create_all` would run on
    /// SQLite to the file it is given, through a mock engine: no database is
    /// touched.
    static let renderScript = #"""
        import sys, os, importlib, importlib.util, traceback
        root, path, spec, out_path = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
        sys.path.insert(0, root)
        def fail(code, message):
            sys.stderr.write(message.strip().splitlines()[-1] + "\n")
            sys.exit(code)
        try:
            from sqlalchemy import MetaData, create_mock_engine
        except ImportError as e:
            fail(3, str(e))
        def load(name):
            try:
                return importlib.import_module(name)
            except BaseException:
                fail(4, traceback.format_exc())
        rel = os.path.relpath(path, root)
        if spec:
            module_name, _, attrs = spec.partition(":")
            value = load(module_name)
            for attr in attrs.split(".") if attrs else []:
                if not hasattr(value, attr):
                    fail(5, "models_metadata = \"%s\": %s has no attribute %s; name the MetaData as module:attribute.path" % (spec, value.__name__ if hasattr(value, "__name__") else value, attr))
                value = getattr(value, attr)
            if not isinstance(value, MetaData):
                fail(5, "models_metadata = \"%s\" is not a SQLAlchemy MetaData (it is %s)" % (spec, type(value).__name__))
            metadata = value
        else:
            if not rel.startswith(".."):
                module = load(rel[:-3].replace(os.sep, "."))
            else:
                loader = importlib.util.spec_from_file_location("strata_models", path)
                module = importlib.util.module_from_spec(loader)
                try:
                    loader.loader.exec_module(module)
                except BaseException:
                    fail(4, traceback.format_exc())
            found = []
            for name, value in sorted(vars(module).items()):
                candidate = value if isinstance(value, MetaData) else getattr(value, "metadata", None)
                if isinstance(candidate, MetaData) and not any(candidate is f for _, f in found):
                    found.append((name, candidate))
            if not found:
                fail(5, "no SQLAlchemy MetaData found in %s (a declarative Base, or a module-level MetaData); name it with models_metadata = \"module:Base.metadata\" in strata.toml" % rel)
            if len(found) > 1:
                fail(5, "%s has %d MetaData objects (%s); name the one to use with models_metadata = \"module:attribute\" in strata.toml" % (rel, len(found), ", ".join(n for n, _ in found)))
            metadata = found[0][1]
        statements = []
        def dump(sql, *multiparams, **params):
            statements.append(str(sql.compile(dialect=engine.dialect)).strip())
        engine = create_mock_engine("sqlite://", dump)
        metadata.create_all(engine, checkfirst=False)
        with open(out_path, "w") as f:
            f.write("".join(s + ";\n" for s in statements))
        """#
}

/// A child process run to completion, its output read whole.
struct Subprocess {
    let status: Int32
    let stdout: String
    let stderr: String

    /// The last non-empty line of stderr: what the underlying tool said last.
    var lastErrorLine: String {
        stderr.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }).map(String.init) ?? "no message"
    }

    static func run(_ executable: String, _ arguments: [String], in directory: String) throws -> Subprocess {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // stderr is read on its own thread, so that neither pipe fills up and blocks the child.
        let errors = ErrorCollector()
        let reader = Thread { errors.data = err.fileHandleForReading.readDataToEndOfFile(); errors.done.signal() }
        reader.start()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        errors.done.wait()
        p.waitUntilExit()
        return Subprocess(status: p.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
                          stderr: String(decoding: errors.data, as: UTF8.self))
    }

    private final class ErrorCollector: @unchecked Sendable {
        var data = Data()
        let done = DispatchSemaphore(value: 0)
    }
}

/// What a revision compares: strata.toml's `exclude` (objects something
/// else manages) and `compare_column_order`.
extension Project {
    /// Whether a name matches one of the `exclude` patterns (`fts_*`), case
    /// folded as SQLite folds names.
    func isExcluded(_ name: String) -> Bool { Project.isExcluded(name, by: config.exclude) }

    static func isExcluded(_ name: String, by patterns: [String]) -> Bool {
        patterns.contains { fnmatch(SQL.nameKey($0), SQL.nameKey(name), 0) == 0 }
    }

    /// Whether a different column order is a change: `compare_column_order`,
    /// else on for a DDL file and off for SQLAlchemy models and a
    /// `models_command` (their renderers write class order, ADD COLUMN appends).
    var comparesColumnOrder: Bool {
        config.compareColumnOrder ?? !(config.modelsCommand != nil || config.models.hasSuffix(".py"))
    }

    /// `schema` without what `exclude` names: the tables, views and virtual
    /// tables it matches, and the indexes and triggers of those or that it
    /// matches itself.
    func excludingManagedElsewhere(_ schema: Schema) -> Schema { Project.excluding(schema, by: config.exclude) }

    static func excluding(_ schema: Schema, by patterns: [String]) -> Schema {
        guard !patterns.isEmpty else { return schema }
        func isExcluded(_ name: String) -> Bool { Project.isExcluded(name, by: patterns) }
        var s = schema
        s.tables = s.tables.filter { !isExcluded($0.value.name) }
        s.virtualTables = s.virtualTables.filter { !isExcluded($0.value.name) }
        s.views = s.views.filter { !isExcluded($0.value.name) }
        s.indexes = s.indexes.filter { !isExcluded($0.value.name) && !isExcluded($0.value.table) }
        s.triggers = s.triggers.filter { !isExcluded($0.value.name) && !isExcluded($0.value.table) }
        return s
    }

    /// The models as a revision diffs them against `head`: what `exclude`
    /// names is taken as head has it (neither created, changed nor dropped),
    /// and unless column order is compared, a table's columns stand in
    /// head's order (renamed ones in their place), the new ones after.
    func comparable(_ models: Schema, against head: Schema, renames: RenameHints) -> Schema {
        var wanted = excludingManagedElsewhere(models)
        if !config.exclude.isEmpty {
            for (k, t) in head.tables where isExcluded(t.name) { wanted.tables[k] = t }
            for (k, v) in head.virtualTables where isExcluded(v.name) { wanted.virtualTables[k] = v }
            for (k, v) in head.views where isExcluded(v.name) { wanted.views[k] = v }
            for (k, i) in head.indexes where isExcluded(i.name) || isExcluded(i.table) { wanted.indexes[k] = i }
            for (k, t) in head.triggers where isExcluded(t.name) || isExcluded(t.table) { wanted.triggers[k] = t }
        }
        guard !comparesColumnOrder else { return wanted }
        for (key, want) in wanted.tables where !isExcluded(want.name) {
            let from = renames.tables.first { SQL.sameName($0.to, want.name) }?.from ?? want.name
            guard let have = head.table(from) else { continue }
            let haveNames = have.columns.map { c in
                renames.columns.first { (SQL.sameName($0.table, from) || SQL.sameName($0.table, want.name)) && SQL.sameName($0.from, c.name) }?.to ?? c.name
            }
            let kept = haveNames.compactMap { want.column($0) }
            let added = want.columns.filter { c in !haveNames.contains { SQL.sameName($0, c.name) } }
            wanted.tables[key]?.columns = kept + added
        }
        return wanted
    }
}
