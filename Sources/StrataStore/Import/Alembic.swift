import Foundation
import StrataCore
import StrataSQLite

/// One revision of an Alembic project, as Alembic itself ran it on a
/// scratch SQLite database.
struct AlembicRevision {
    let revision: String
    let message: String
    let timestamp: Int64?
    /// The statements Alembic sent to SQLite, parameters bound as literals;
    /// reflection and the `alembic_version` bookkeeping left out.
    let statements: [String]
    /// With `--check-downs`: the state before the revision, and after its
    /// `downgrade()` (or the error that stopped it).
    let before: Snapshot?
    let down: Snapshot?
    let downError: String?
    /// What reading it could not take as written (a `Create Date:` that is no date).
    var notes: [String] = []

    /// Batch mode rebuilt a table through `_alembic_tmp_<table>`.
    var usesBatchMode: Bool { statements.contains { $0.contains("_alembic_tmp_") } }

    var label: String { "alembic revision \(revision) (\(message))" }
}

/// An Alembic project is Python: strata runs it with the project's Python
/// and Alembic itself, revision by revision, on a scratch SQLite database
/// (`sqlalchemy.url` and `DATABASE_URL` point there), and records the
/// statements Alembic sends. So `op.alter_column(new_column_name=…)` and
/// `op.rename_table` stay renames, `op.execute`/`op.bulk_insert` become data
/// steps, and batch mode (which reflects the live table) works. A guard
/// refuses any statement on a connection to another database.
extension Project {
    func alembicRevisions(_ dir: String, checkDowns: Bool) throws -> [AlembicRevision] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ProjectError("\(dir) is not a directory; name the folder that holds alembic.ini")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("strata-alembic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("revisions.json").path
        let root = URL(fileURLWithPath: dir).standardizedFileURL.path
        let run = try Subprocess.run("/usr/bin/env", [python, "-c", Project.alembicScript, root, scratch.appendingPathComponent("scratch.db").path,
                                                      out, checkDowns ? "1" : "0"], in: self.root.path)
        switch run.status {
        case 0: break
        case 127:
            throw ProjectError("cannot run `\(python)` to read the Alembic project (\(run.lastErrorLine)); install Python 3, or set `python = \"PATH\"` in \(Config.fileName) (a virtualenv's interpreter)")
        case 3:
            throw ProjectError("Alembic is not installed for `\(python)` (\(run.lastErrorLine)); run `\(python) -m pip install alembic`, or set `python` in \(Config.fileName) to the interpreter of the project's virtualenv")
        case 5, 6:
            throw ProjectError(run.lastErrorLine)
        default:
            throw ProjectError("the Alembic project in \(dir) could not be run: \(run.lastErrorLine)")
        }
        let json = try JSON.parse(try Folders.text(out))
        return try (json["revisions"]?.arrayValue ?? []).map { r in
            guard let revision = r["revision"]?.stringValue else { throw ProjectError("the Alembic run's report has a revision without an id") }
            func snapshot(_ key: String) throws -> Snapshot? {
                guard let s = r[key], let ddl = s["ddl"]?.stringValue else { return nil }
                var rows: [String: Int64] = [:]
                if case .object(let counts)? = s["rows"] { for (table, n) in counts { rows[table] = n.intValue ?? 0 } }
                return Snapshot(schema: try Models.schema(fromDDL: ddl, source: "the schema after alembic revision \(revision)"), rows: rows)
            }
            return AlembicRevision(revision: revision, message: r["message"]?.stringValue ?? revision, timestamp: r["timestamp"]?.intValue,
                                   statements: r["statements"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                   before: try snapshot("before"), down: try snapshot("down"), downError: r["downError"]?.stringValue,
                                   notes: r["notes"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
    }

    /// argv: project folder, scratch database, report file, "1" to check downs.
    /// Exit 3: Alembic or SQLAlchemy missing; 5: the project cannot be read;
    /// 6: a revision does not run on SQLite. The last line of stderr says why.
    static let alembicScript = #"""
        import sys, os, shutil, json, re, traceback, datetime
        root, scratch, out_path, check_downs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
        def reason(e):
            lines = str(e).strip().splitlines()
            return lines[0] if lines else type(e).__name__
        def fail(code, message):
            sys.stderr.write(message.strip().splitlines()[-1] + "\n")
            sys.exit(code)
        try:
            from alembic.config import Config
            from alembic import command
            from alembic.script import ScriptDirectory
            from sqlalchemy import event
            from sqlalchemy.engine import Engine
        except ImportError as e:
            fail(3, str(e))
        ini = os.path.join(root, "alembic.ini")
        if os.path.exists(ini):
            cfg = Config(ini)
        elif os.path.exists(os.path.join(root, "env.py")):
            cfg = Config()
            cfg.set_main_option("script_location", root)
        else:
            fail(5, "%s has neither alembic.ini nor env.py; name the folder that holds alembic.ini (or the migrations folder with env.py)" % root)
        os.chdir(root)
        sys.path.insert(0, root)
        url = "sqlite:///" + scratch
        cfg.set_main_option("sqlalchemy.url", url)
        os.environ["DATABASE_URL"] = url
        try:
            script = ScriptDirectory.from_config(cfg)
            heads = script.get_heads()
            revisions = list(reversed(list(script.walk_revisions("base", "heads"))))
        except BaseException:
            fail(5, traceback.format_exc())
        if len(heads) > 1:
            fail(5, "the project has %d heads (%s); merge them with `alembic merge heads` and import again" % (len(heads), ", ".join(sorted(heads))))
        
        def literal(v):
            if v is None: return "NULL"
            if isinstance(v, bool): return "1" if v else "0"
            if isinstance(v, (int, float)): return repr(v)
            if isinstance(v, (bytes, bytearray, memoryview)): return "X'" + bytes(v).hex() + "'"
            return "'" + str(v).replace("'", "''") + "'"
        
        def bind(sql, params):
            # Replaces each ? outside quotes with the next parameter as a literal.
            if not params: return sql
            if isinstance(params, dict):
                return re.sub(r":(\w+)", lambda m: literal(params[m.group(1)]) if m.group(1) in params else m.group(0), sql)
            out, quote, values = [], None, iter(params)
            for c in sql:
                if quote:
                    if c == quote: quote = None
                elif c in "'\"`[":
                    quote = "]" if c == "[" else c
                elif c == "?":
                    out.append(literal(next(values))); continue
                out.append(c)
            return "".join(out)
        
        captured, refused = None, None
        # Only the scratch database: a connection anywhere else is refused before it opens.
        @event.listens_for(Engine, "do_connect")
        def guard(dialect, conn_rec, cargs, cparams):
            target = cargs[0] if cargs else cparams.get("database")
            if dialect.name != "sqlite" or target != scratch:
                global refused
                refused = "env.py connects to a %s database (%s), not to the scratch SQLite database strata gave it; nothing ran there. Make env.py use sqlalchemy.url or DATABASE_URL, which strata sets" % (dialect.name, target)
                raise RuntimeError(refused)
        @event.listens_for(Engine, "before_cursor_execute")
        def capture(conn, cursor, statement, parameters, context, executemany):
            # Reflection (batch mode reads the live table) and the version table are Alembic's own business.
            if captured is None or re.match(r"\s*(PRAGMA|SELECT)\b", statement, re.I) or re.search(r"\balembic_version\b", statement): return
            for p in (parameters if executemany else [parameters]):
                captured.append(bind(statement.strip(), p))
        
        import sqlite3
        def dump():
            db = sqlite3.connect(scratch)
            try:
                ddl = [r[0] for r in db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version' ORDER BY rowid")]
                counts = {}
                for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"):
                    counts[t] = db.execute('SELECT count(*) FROM "%s"' % t.replace('"', '""')).fetchone()[0]
                return {"ddl": ";\n".join(ddl) + (";" if ddl else ""), "rows": counts}
            finally:
                db.close()
        
        def when(doc, notes, path):
            # Alembic itself never reads the line: one that is no date (2023-21-02) is a note, and the revision's place gives its time.
            m = re.search(r"Create Date:\s*(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2})?)", doc or "")
            if not m: return None
            try:
                t = datetime.datetime.fromisoformat(m.group(1).replace(" ", "T"))
            except ValueError as e:
                notes.append("%s: `Create Date: %s` is not a date (%s); its time is taken from its place in the history" % (os.path.relpath(path, root), m.group(1), e))
                return None
            if t.tzinfo is None: t = t.replace(tzinfo=datetime.timezone.utc)
            return int(t.timestamp() * 1000)
        
        result = []
        for r in revisions:
            notes = []
            entry = {"revision": r.revision, "message": r.doc or r.revision, "timestamp": when(r.module.__doc__, notes, r.path), "merge": r.is_merge_point, "notes": notes}
            before = dump() if check_downs else None
            captured = []
            try:
                command.upgrade(cfg, r.revision)
            except BaseException as e:
                if refused: fail(5, refused)
                fail(6, "alembic revision %s (%s) does not run on SQLite: %s; fix the revision (SQLite changes a column only in batch mode: with op.batch_alter_table(...)) and import again" % (r.revision, r.doc, reason(e)))
            entry["statements"] = captured
            captured = None
            if check_downs and not r.is_merge_point:
                # The down runs on a copy: whatever it does, the next revision starts from this one's state.
                shutil.copyfile(scratch, scratch + ".up")
                entry["before"] = before
                try:
                    # REV@-1 takes back this revision alone, whatever other branches are applied.
                    command.downgrade(cfg, "%s@-1" % r.revision if r.down_revision else "base")
                    entry["down"] = dump()
                except BaseException as e:
                    entry["downError"] = reason(e)
                os.replace(scratch + ".up", scratch)
            result.append(entry)
        with open(out_path, "w") as f:
            json.dump({"revisions": result}, f)
        """#
}
