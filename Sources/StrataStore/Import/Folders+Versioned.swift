import Foundation
import StrataCore

/// The folder formats whose order is a number in each file's name: prisma,
/// sqlx, goose, ory's popx and the generic `numbered`. Each one's rule is the
/// one its tool applies (docs/CONTRACT.md, "import").
extension Folders {
    /// `<timestamp>_<name>/migration.sql`, in the order of the folder names;
    /// `migration_lock.toml` must name the sqlite provider.
    static func prisma(_ dir: String) throws -> [FolderMigration] {
        let lock = "\(dir)/migration_lock.toml"
        if FileManager.default.fileExists(atPath: lock) {
            let provider = try text(lock).split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("provider") }
            if let provider, !provider.contains("\"sqlite\"") {
                throw ProjectError("\(lock) says \(provider.trimmingCharacters(in: .whitespaces)): these migrations are for another database; "
                    + "strata imports the migrations of a prisma project whose provider is \"sqlite\"")
            }
        }
        return try files(dir).filter { FileManager.default.fileExists(atPath: "\(dir)/\($0)/migration.sql") }.map { sub in
            let (version, name) = split(sub)
            return FolderMigration(version: version, name: name, up: try text("\(dir)/\(sub)/migration.sql"), down: nil,
                                   timestamp: timestamp(version), label: sub)
        }
    }

    /// `<version>_<description>.sql` (simple), or `.up.sql` with `.down.sql`
    /// (reversible); versions are 64-bit integers, applied in ascending order.
    static func sqlx(_ dir: String) throws -> [FolderMigration] {
        try pairs(dir, format: "sqlx") { file in
            guard let underscore = file.firstIndex(of: "_"), let version = Int64(file[..<underscore]) else { return nil }
            let rest = String(file[file.index(after: underscore)...])
            return (version, rest)
        }
    }

    /// The generic format: files ordered by the number that leads each name,
    /// compared as numbers (`1_init.sql` ... `10_more.sql`, `V0001.Name.up.sql`
    /// with `V0001.Name.down.sql`). A letter prefix (`V`) is allowed; the name
    /// follows a `_`, `.` or `-`.
    static func numbered(_ dir: String) throws -> [FolderMigration] {
        try pairs(dir, format: "numbered") { file in
            let letters = file.prefix { $0.isLetter }
            let digits = file.dropFirst(letters.count).prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let version = Int64(digits) else { return nil }
            var rest = file.dropFirst(letters.count + digits.count)
            if let c = rest.first, "_.-".contains(c) { rest = rest.dropFirst() }
            return (version, String(rest))
        }
    }

    /// Files `VERSION…NAME[.up|.down].sql` grouped by version: one migration a
    /// version, its up file (or the file with no direction) and its down.
    /// `parse` gives a file's number and the rest of its name, or nil for a
    /// file that is no migration of the format.
    static func pairs(_ dir: String, format: String, parse: (String) -> (Int64, String)?) throws -> [FolderMigration] {
        struct Found { var up: String?; var down: String?; var name = ""; var stem = "" }
        var byVersion: [Int64: Found] = [:]
        for file in try files(dir) where file.hasSuffix(".sql") {
            guard let (version, rest) = parse(file) else {
                throw ProjectError("\(dir)/\(file): a \(format) migration's name starts with its number (\(format == "sqlx" ? "`20240102030405_name.sql`" : "`0001_name.sql`, `V1.name.up.sql`")); "
                    + "rename the file or move it out of the folder")
            }
            let base = String(rest.dropLast(4))
            let direction = base.hasSuffix(".up") ? "up" : base.hasSuffix(".down") ? "down" : nil
            let name = direction.map { String(base.dropLast($0.count + 1)) } ?? base
            var f = byVersion[version] ?? Found()
            if direction == "down" {
                f.down = file
            } else {
                if let other = f.up {
                    throw ProjectError("\(dir): \(other) and \(file) both have the number \(version); a \(format) folder has one migration a number")
                }
                f.up = file
                f.name = name
                f.stem = String(file.dropLast(direction == nil ? 4 : 7))
            }
            byVersion[version] = f
        }
        return try byVersion.keys.sorted().map { version in
            let f = byVersion[version]!
            guard let up = f.up else { throw ProjectError("\(dir)/\(f.down!) is a down with no up of the number \(version)") }
            return FolderMigration(version: String(version), name: f.name, up: try text("\(dir)/\(up)"), down: try f.down.map { try text("\(dir)/\($0)") },
                                   timestamp: timestamp(String(version)), label: f.stem)
        }
    }

    /// ory's popx: `<version>_<name>[.<dialect>][.autocommit].(up|down).sql`.
    /// For each version and direction the `.sqlite3.` or `.sqlite.` file wins
    /// over the generic one (no dialect), even when it is empty; the files of
    /// other dialects are left out. Versions sort as strings.
    static func popx(_ dir: String) throws -> [FolderMigration] {
        struct Side { var path: String; var sqlite: Bool }
        struct Found { var up: Side?; var down: Side?; var name = ""; var stem = "" }
        var byVersion: [String: Found] = [:]
        for file in try files(dir) where file.hasSuffix(".sql") {
            var parts = file.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 3, ["up", "down"].contains(parts[parts.count - 2]),
                  let underscore = parts[0].firstIndex(of: "_"), parts[0][..<underscore].allSatisfy(\.isNumber) else { continue }
            let direction = parts[parts.count - 2]
            parts.removeLast(2)
            if parts.last == "autocommit" { parts.removeLast() }
            guard parts.count <= 2 else { continue }
            let dialect = parts.count == 2 ? parts[1] : nil
            let sqlite = dialect == "sqlite3" || dialect == "sqlite"
            guard dialect == nil || sqlite else { continue }
            let version = String(parts[0][..<underscore])
            var f = byVersion[version] ?? Found()
            let side = Side(path: "\(dir)/\(file)", sqlite: sqlite)
            if direction == "up" {
                if f.up?.sqlite == true && !sqlite { continue }
                f.up = side
                f.name = String(parts[0][parts[0].index(after: underscore)...])
                f.stem = parts[0]
            } else {
                if f.down?.sqlite == true && !sqlite { continue }
                f.down = side
            }
            byVersion[version] = f
        }
        return try byVersion.keys.sorted().compactMap { version in
            let f = byVersion[version]!
            guard let up = f.up else { return nil }
            return FolderMigration(version: version, name: f.name, up: try text(up.path), down: try f.down.map { try text($0.path) },
                                   timestamp: timestamp(String(version.prefix(14))), label: f.stem)
        }
    }

    /// goose: `<version>_<name>.sql` with `-- +goose Up` and `-- +goose Down`
    /// sections, versions ascending as numbers. Inside a section a statement
    /// ends at a line whose last word before any `--` ends with `;`, or at
    /// `-- +goose StatementEnd`; what stands before the first annotation is
    /// not run, and neither is a statement left without its `;` at the end
    /// of a section (goose only warns about it): the import says so too.
    /// Go migrations (`.go`) are code strata cannot record, and are refused.
    static func goose(_ dir: String) throws -> [FolderMigration] {
        let all = try files(dir)
        if let code = all.first(where: { $0.hasSuffix(".go") && $0.first?.isNumber == true }) {
            throw ProjectError("\(dir)/\(code) is a goose migration written in Go: strata records SQL migrations only; "
                + "write what it does as SQL (`strata revision --exec` for a data step), or import the folder without it")
        }
        return try pairs(dir, format: "goose") { file in
            guard let underscore = file.firstIndex(of: "_"), let version = Int64(file[..<underscore]) else { return nil }
            return (version, String(file[file.index(after: underscore)...]))
        }.map { m in
            let sections = gooseSections(m.up)
            var migration = FolderMigration(version: m.version, name: m.name, up: sections.up, down: sections.down,
                                            timestamp: m.timestamp, label: m.label)
            migration.notes = sections.unfinished.map {
                "the \($0.section) section ends with a statement that has no `;` (line \($0.line)); goose does not run it, and it is not imported"
            }
            return migration
        }
    }

    static func gooseSections(_ text: String) -> (up: String, down: String?, unfinished: [(section: String, line: Int)]) {
        var up = "", down: String?, section: String?, inBlock = false
        var statement = "", statementLine = 0
        var unfinished: [(section: String, line: Int)] = []
        func end() {
            if section == "up" { up += statement } else if section == "down" { down! += statement }
            statement = ""
        }
        func closeSection() {
            if let section,
               (try? SQL.tokenize(statement, limit: 1))?.isEmpty == false {
                unfinished.append((section, statementLine))
            }
            statement = ""
        }
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("-- +goose") {
                let words = trimmed.dropFirst("-- +goose".count).trimmingCharacters(in: .whitespaces).lowercased()
                switch words {
                case "up": closeSection(); section = "up"
                case "down": closeSection(); section = "down"; down = down ?? ""
                case "statementbegin": inBlock = true
                case "statementend": inBlock = false; end()
                default: break  // NO TRANSACTION, ENVSUB ON/OFF
                }
                continue
            }
            guard section != nil else { continue }
            if statement.isEmpty { statementLine = n + 1 }
            statement += line + "\n"
            let code = line.range(of: "--").map { String(line[..<$0.lowerBound]) } ?? line
            if !inBlock && code.trimmingCharacters(in: .whitespaces).hasSuffix(";") { end() }
        }
        closeSection()
        return (up, down, unfinished)
    }
}
