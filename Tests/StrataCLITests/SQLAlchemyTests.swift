import Foundation
import StrataCore
import StrataSQLite
import XCTest

/// The Alembic lesson with the SQLAlchemy classes unchanged: `models =
/// "app/models.py"`, rendered by SQLAlchemy itself. After each upgrade the
/// database equals what SQLAlchemy's own `create_all` builds from the same file.
final class SQLAlchemyTests: XCTestCase {
    static let users = """
        from sqlalchemy import Column, Integer, String
        from sqlalchemy.orm import declarative_base

        Base = declarative_base()


        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True, index=True)
            name = Column(String(50))
            email = Column(String, unique=True, index=True)

        """
    static let age = "    age = Column(Integer, nullable=True)\n"
    static let products = """


        class Product(Base):
            __tablename__ = "products"
            id = Column(Integer, primary_key=True, index=True)
            name = Column(String(100), nullable=False)
            price = Column(Integer)

        """

    /// The schema SQLAlchemy's own `metadata.create_all()` makes of the file, read the way `check` reads a database.
    func createAll(_ cli: CLI) throws -> Schema {
        let db = cli.path("sqlalchemy-\(UUID().uuidString).db")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sys; sys.path.insert(0, '.'); from sqlalchemy import create_engine; "
            + "from app.models import Base; Base.metadata.create_all(create_engine('sqlite:///\(db)'))"]
        p.currentDirectoryURL = cli.dir
        let r = try CLI.finish(p)
        XCTAssertEqual(r.status, 0, String(decoding: r.stderr, as: UTF8.self))
        defer { try? FileManager.default.removeItem(atPath: db) }
        return try TargetDatabase(path: db, create: false).schema()
    }

    func testTheAlembicLessonFromSQLAlchemyModels() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "app/models.py", "--db", "app.db")
        try cli.write("app/models.py", Self.users)
        let r1 = try cli.ok("revision", "--autogenerate", "-m", "create users")
        XCTAssertEqual(r1.lines.dropFirst(), ["  create table users (id, name, email) with 2 indexes"])
        XCTAssertEqual(try cli.ok("revision", "--autogenerate", "-m", "again").stdout, "No changes detected\n")
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try TargetDatabase(path: cli.path("app.db"), create: false).schema(), try createAll(cli))
        _ = try cli.sqlite("app.db", "INSERT INTO users (name, email) VALUES ('ana', 'a@x')")

        try cli.write("app/models.py", Self.users + Self.age)
        XCTAssertEqual(try cli.ok("revision", "--autogenerate", "-m", "Add age column to users table").lines.dropFirst(),
                       ["  add column users.age INTEGER"])
        let up = try cli.ok("upgrade", "head", "--sql").stdout
        XCTAssertTrue(up.contains("-- add column users.age\nALTER TABLE users ADD COLUMN age INTEGER;\n"), up)
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try TargetDatabase(path: cli.path("app.db"), create: false).schema(), try createAll(cli))

        try cli.write("app/models.py", Self.users + Self.age + Self.products)
        XCTAssertEqual(try cli.ok("revision", "--autogenerate", "-m", "add products").lines.dropFirst(),
                       ["  create table products (id, name, price) with 1 index"])
        try cli.ok("upgrade", "head")
        XCTAssertEqual(try TargetDatabase(path: cli.path("app.db"), create: false).schema(), try createAll(cli))

        try cli.ok("downgrade", "-1")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT name FROM sqlite_master WHERE name = 'products'"), "")
        XCTAssertEqual(try cli.sqlite("app.db", "SELECT name, email FROM users"), "ana|a@x", "rows kept throughout")
        try cli.ok("check")
    }

    /// What goes wrong in a Python models file is said with the underlying
    /// error's last line, exit 2, and nothing recorded.
    func testBadModelsAreRefusedWithTheUnderlyingError() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "app/models.py", "--db", "app.db")
        func refuse(_ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let before = try cli.tree()
            let r = try cli.run("revision", "--autogenerate", "-m", "x")
            XCTAssertEqual(r.status, 2, file: file, line: line)
            XCTAssertEqual(r.stderr, "error: \(expected)\n", file: file, line: line)
            XCTAssertEqual(try cli.tree(), before, "nothing recorded", file: file, line: line)
        }
        try cli.write("app/models.py", "from sqlalchemy import Column\nclass (:\n")
        try refuse("app/models.py does not import: SyntaxError: invalid syntax; fix it (or what it imports) and run again")
        try cli.write("app/models.py", "import app.missing_helpers\n")
        try refuse("app/models.py does not import: ModuleNotFoundError: No module named 'app.missing_helpers'; fix it (or what it imports) and run again")
        try cli.write("app/models.py", "x = 1\n")
        try refuse("app/models.py: no SQLAlchemy MetaData found in app/models.py (a declarative Base, or a module-level MetaData); "
            + "name it with models_metadata = \"module:Base.metadata\" in strata.toml")
        try cli.write("app/models.py", "from sqlalchemy import MetaData\na = MetaData()\nb = MetaData()\n")
        try refuse("app/models.py: app/models.py has 2 MetaData objects (a, b); name the one to use with models_metadata = \"module:attribute\" in strata.toml")
        // models_metadata picks one.
        try cli.write("strata.toml", try cli.read("strata.toml") + "models_metadata = \"app.models:b\"\n")
        XCTAssertEqual(try cli.ok("revision", "--autogenerate", "-m", "x").stdout, "No changes detected\n")

        try cli.write("strata.toml", try cli.read("strata.toml") + "python = \"python-that-is-not-there\"\n")
        try refuse("cannot run `python-that-is-not-there` to read app/models.py (/usr/bin/env: ‘python-that-is-not-there’: No such file or directory); "
            + "install Python 3, or set `python = \"PATH\"` in strata.toml (a virtualenv's interpreter)")
        // A Python without SQLAlchemy: the system's own, outside any virtualenv or user site.
        try cli.write("strata.toml", try cli.read("strata.toml").replacingOccurrences(of: "python-that-is-not-there", with: "\(cli.path("bare-python"))"))
        try cli.write("bare-python", "#!/bin/sh\nexec python3 -S -s \"$@\"\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: cli.path("bare-python"))
        try refuse("SQLAlchemy is not installed for `\(cli.path("bare-python"))` (No module named 'sqlalchemy'); run `\(cli.path("bare-python")) -m pip install SQLAlchemy`, "
            + "or set `python` in strata.toml to the interpreter of the virtualenv that has it")
    }

    /// Any command that prints SQLite DDL can be the source.
    func testAModelsCommand() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "unused.sql", "--db", "app.db")
        try cli.write("strata.toml", try cli.read("strata.toml") + "models_command = \"cat schema/*.sql\"\n")
        try cli.write("schema/1.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n")
        XCTAssertEqual(try cli.ok("revision", "--autogenerate", "-m", "a").lines.dropFirst(), ["  create table a (id)"])
        let before = try cli.tree()
        try cli.write("strata.toml", try cli.read("strata.toml").replacingOccurrences(of: "cat schema/*.sql", with: "echo 'CREATE TABLE b (' ; echo oops >&2; exit 3"))
        let failed = try cli.run("revision", "--autogenerate", "-m", "b")
        XCTAssertEqual(failed.status, 2)
        XCTAssertEqual(failed.stderr, "error: models_command `echo 'CREATE TABLE b (' ; echo oops >&2; exit 3` failed (exit 3): oops; fix the command in strata.toml and run again\n")
        try cli.write("strata.toml", try cli.read("strata.toml").replacingOccurrences(of: " ; echo oops >&2; exit 3", with: ""))
        let garbled = try cli.run("revision", "--autogenerate", "-m", "b")
        XCTAssertEqual(garbled.status, 2)
        XCTAssertTrue(garbled.stderr.hasPrefix("error: the output of models_command `echo 'CREATE TABLE b ('`: statement at line 1: "), garbled.stderr)
        XCTAssertEqual(try cli.tree().filter { $0.key.hasSuffix("log.db") }, before.filter { $0.key.hasSuffix("log.db") }, "nothing recorded")
    }

    /// `pip install strata-migrate` puts strata in VENV/bin beside python3:
    /// strata renders models with that interpreter when strata.toml names
    /// none (the virtualenv need not be activated), and only when VENV holds
    /// pyvenv.cfg; `python` in strata.toml still wins.
    func testAStrataInstalledInAVirtualenvRendersWithItsPython() throws {
        let cli = try CLI()
        try cli.ok("init", "--models", "app/models.py", "--db", "app.db")
        try cli.write("app/models.py", Self.users)
        let venv = cli.dir.appendingPathComponent("venv")
        try FileManager.default.createDirectory(at: venv.appendingPathComponent("bin"), withIntermediateDirectories: true)
        // A copy of the binary, not a symbolic link: strata finds itself through /proc/self/exe.
        let strata = venv.appendingPathComponent("bin/strata")
        if link(CLI.binary.path, strata.path) != 0 { try FileManager.default.copyItem(at: CLI.binary, to: strata) }
        let marker = cli.path("used-python")
        try cli.write("venv/bin/python3", "#!/bin/sh\necho \"$0\" >> '\(marker)'\nexec /usr/bin/env python3 \"$@\"\n")
        XCTAssertEqual(chmod(venv.appendingPathComponent("bin/python3").path, 0o755), 0)
        func revision(_ message: String) throws -> String {
            let p = cli.process(["revision", "--autogenerate", "-m", message])
            p.executableURL = strata
            let r = try CLI.finish(p)
            XCTAssertEqual(r.status, 0, String(decoding: r.stderr, as: UTF8.self))
            return String(decoding: r.stdout, as: UTF8.self)
        }
        _ = try revision("users")
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "without pyvenv.cfg the folder is not a virtualenv: python3 from PATH")
        try cli.write("venv/pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\n")
        XCTAssertEqual(try revision("nothing"), "No changes detected\n")
        XCTAssertEqual(try cli.read("used-python"), strata.deletingLastPathComponent().appendingPathComponent("python3").path + "\n")
        try cli.write("strata.toml", try cli.read("strata.toml") + "python = \"python3\"\n")
        XCTAssertEqual(try revision("still nothing"), "No changes detected\n")
        XCTAssertEqual(try cli.read("used-python").split(separator: "\n").count, 1, "strata.toml's python wins over the virtualenv's")
    }
}
