import Foundation
import StrataCore

/// One migration of another tool's folder.
package struct FolderMigration: Sendable, Equatable {
    /// The version as the tool writes it (`20240102030405`, `1.1`, `0003`).
    package let version: String
    package let name: String
    package let up: String
    /// The folder's own way down (not imported: strata derives its own).
    package let down: String?
    /// When the migration was written, if its version or plan says so (UTC ms).
    package let timestamp: Int64?
    /// How its tool names it: the file, folder or change (`V1__users.sql`).
    package let label: String
    /// What reading it left out or read less directly than its tool would say
    /// (a goose statement without its closing `;`, which goose does not run).
    package var notes: [String] = []
}

/// The folder layouts `strata import` reads.
package enum ImportFormat: String, CaseIterable, Sendable {
    case diesel, golangMigrate = "golang-migrate", dbmate, flyway, sqitch, drizzle, alembic
    case prisma, sqlx, goose, popx, numbered

    /// How an error or a report names one of its migrations.
    package func source(of m: FolderMigration) -> String {
        self == .alembic ? "alembic revision \(m.label)" : "\(rawValue) migration \(m.label)"
    }

    /// The migrations of `dir`, in the order the tool applies them.
    package func read(_ dir: String) throws -> [FolderMigration] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ProjectError("\(dir) is not a directory; name the folder that holds the \(rawValue) migrations")
        }
        switch self {
        case .diesel: return try Folders.diesel(dir)
        case .golangMigrate: return try Folders.golangMigrate(dir)
        case .dbmate: return try Folders.dbmate(dir)
        case .flyway: return try Folders.flyway(dir)
        case .sqitch: return try Folders.sqitch(dir)
        case .drizzle: return try Folders.drizzle(dir)
        case .prisma: return try Folders.prisma(dir)
        case .sqlx: return try Folders.sqlx(dir)
        case .goose: return try Folders.goose(dir)
        case .popx: return try Folders.popx(dir)
        case .numbered: return try Folders.numbered(dir)
        case .alembic:
            // Python, not files: Project.importFolder runs it with Alembic.
            throw ProjectError("an Alembic project is read by running it, not as files; use Project.importFolder")
        }
    }
}

enum Folders {
    static func text(_ path: String) throws -> String {
        guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { throw ProjectError("cannot read \(path)") }
        return s
    }

    static func files(_ dir: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir).sorted() }

    /// `VERSION_name` -> ("VERSION", "name").
    static func split(_ stem: String) -> (version: String, name: String) {
        guard let i = stem.firstIndex(of: "_") else { return (stem, stem) }
        return (String(stem[..<i]), String(stem[stem.index(after: i)...]))
    }

    /// A version that is a date-time: `YYYYMMDDHHMMSS` or diesel's `YYYY-MM-DD-HHMMSS`.
    static func timestamp(_ version: String) -> Int64? {
        let digits = version.filter(\.isNumber)
        guard digits.count == 14, version.allSatisfy({ $0.isNumber || $0 == "-" }) else { return nil }
        let d = Array(digits)
        func n(_ r: Range<Int>) -> String { String(d[r]) }
        return Timestamp.parse("\(n(0..<4))-\(n(4..<6))-\(n(6..<8))T\(n(8..<10)):\(n(10..<12)):\(n(12..<14)).000Z")
    }

    /// Numeric versions compare as numbers (`2` before `10`), part by part (`1.1`).
    static func versionOrder(_ a: String, _ b: String) -> Bool {
        let pa = a.split(whereSeparator: { $0 == "." || $0 == "_" }).map { Int($0) ?? 0 }
        let pb = b.split(whereSeparator: { $0 == "." || $0 == "_" }).map { Int($0) ?? 0 }
        return pa.lexicographicallyPrecedes(pb)
    }

    static func diesel(_ dir: String) throws -> [FolderMigration] {
        try files(dir).filter { !$0.hasPrefix(".") && FileManager.default.fileExists(atPath: "\(dir)/\($0)/up.sql") }.map { sub in
            let (version, name) = split(sub)
            let down = "\(dir)/\(sub)/down.sql"
            return FolderMigration(version: version, name: name, up: try text("\(dir)/\(sub)/up.sql"),
                                   down: FileManager.default.fileExists(atPath: down) ? try text(down) : nil, timestamp: timestamp(version), label: sub)
        }
    }

    /// `VERSION_name[.tag...].up.sql`: a `.sqlite3.` or `.sqlite.` file wins
    /// over the generic one of its version; other dialects are left out.
    static func golangMigrate(_ dir: String) throws -> [FolderMigration] {
        struct Found { var up: String?; var down: String?; var sqlite = false; var name = ""; var stem = "" }
        var byVersion: [String: Found] = [:]
        for file in try files(dir) {
            let parts = file.split(separator: ".").map(String.init)
            guard parts.count >= 3, parts.last == "sql", ["up", "down"].contains(parts[parts.count - 2]) else { continue }
            let tags = parts[1..<(parts.count - 2)]
            let sqlite = tags.contains { $0 == "sqlite3" || $0 == "sqlite" }
            guard tags.isEmpty || sqlite else { continue }
            let (version, name) = split(parts[0])
            var f = byVersion[version] ?? Found()
            if f.sqlite && !sqlite { continue }
            if sqlite && !f.sqlite { f = Found(sqlite: true) }
            f.name = name
            f.stem = parts[0]
            if parts[parts.count - 2] == "up" { f.up = "\(dir)/\(file)" } else { f.down = "\(dir)/\(file)" }
            byVersion[version] = f
        }
        return try byVersion.keys.sorted(by: versionOrder).compactMap { version in
            let f = byVersion[version]!
            guard let up = f.up else { return nil }
            return FolderMigration(version: version, name: f.name, up: try text(up), down: try f.down.map(text), timestamp: timestamp(version), label: f.stem)
        }
    }

    /// `VERSION_name.sql` with `-- migrate:up` and `-- migrate:down` sections.
    static func dbmate(_ dir: String) throws -> [FolderMigration] {
        try files(dir).filter { $0.hasSuffix(".sql") }.map { file in
            let (version, name) = split(String(file.dropLast(4)))
            var up = "", down: String?, section = ""
            for line in try text("\(dir)/\(file)").split(separator: "\n", omittingEmptySubsequences: false) {
                let marker = line.trimmingCharacters(in: .whitespaces).lowercased()
                if marker.hasPrefix("-- migrate:up") { section = "up"; continue }
                if marker.hasPrefix("-- migrate:down") { section = "down"; down = down ?? ""; continue }
                if section == "up" { up += line + "\n" } else if section == "down" { down! += line + "\n" }
            }
            return FolderMigration(version: version, name: name, up: up, down: down, timestamp: timestamp(version), label: String(file.dropLast(4)))
        }
    }

    /// `V1__name.sql`, `V1.1__name.sql`; `U1__...` undo files are the downs;
    /// repeatable `R__` migrations have no place in a history of changes.
    static func flyway(_ dir: String) throws -> [FolderMigration] {
        let all = try files(dir).filter { $0.hasSuffix(".sql") }
        if let repeatable = all.first(where: { $0.hasPrefix("R__") }) {
            throw ProjectError("\(repeatable) is a repeatable migration (R__), re-run by flyway whenever it changes; strata records changes once: "
                + "move what it creates into a versioned migration, or leave it out of the folder to import")
        }
        func parse(_ file: String) -> (version: String, name: String)? {
            guard let sep = file.range(of: "__") else { return nil }
            let version = String(file[file.index(after: file.startIndex)..<sep.lowerBound]).replacingOccurrences(of: "_", with: ".")
            return (version, String(file[sep.upperBound...].dropLast(4)).replacingOccurrences(of: "_", with: " "))
        }
        var undo: [String: String] = [:]
        for file in all where file.hasPrefix("U") { if let p = parse(file) { undo[p.version] = "\(dir)/\(file)" } }
        return try all.filter { $0.hasPrefix("V") }.compactMap { file -> (String, String, String)? in
            parse(file).map { ($0.version, $0.name, file) }
        }.sorted { versionOrder($0.0, $1.0) }.map { version, name, file in
            FolderMigration(version: version, name: name, up: try text("\(dir)/\(file)"), down: try undo[version].map(text), timestamp: timestamp(version), label: file)
        }
    }

    /// `sqitch.plan` (`change [deps] 2024-01-02T03:04:05Z planner <email> # note`), `deploy/` and `revert/`.
    static func sqitch(_ dir: String) throws -> [FolderMigration] {
        var result: [FolderMigration] = []
        for raw in try text("\(dir)/sqitch.plan").split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("%"), !line.hasPrefix("#"), !line.hasPrefix("@") else { continue }
            let words = line.split(separator: " ").map(String.init)
            let change = words[0]
            let when = words.first { Timestamp.parse($0.replacingOccurrences(of: "Z", with: ".000Z")) != nil }
            let note = line.range(of: " # ").map { String(line[$0.upperBound...]) }
            let revert = "\(dir)/revert/\(change).sql"
            result.append(FolderMigration(version: change, name: note ?? change, up: try text("\(dir)/deploy/\(change).sql"),
                                          down: FileManager.default.fileExists(atPath: revert) ? try text(revert) : nil,
                                          timestamp: when.flatMap { Timestamp.parse($0.replacingOccurrences(of: "Z", with: ".000Z")) }, label: change))
        }
        return result
    }

    /// `meta/_journal.json` gives the order and time; `TAG.sql` the SQL, its
    /// statements separated by `--> statement-breakpoint` (a comment to SQLite).
    static func drizzle(_ dir: String) throws -> [FolderMigration] {
        let journal = try JSON.parse(try text("\(dir)/meta/_journal.json"))
        guard let entries = journal["entries"]?.arrayValue else { throw ProjectError("\(dir)/meta/_journal.json has no entries array") }
        return try entries.map { entry in
            guard let tag = entry["tag"]?.stringValue else { throw ProjectError("\(dir)/meta/_journal.json: an entry has no tag") }
            let (version, name) = split(tag)
            return FolderMigration(version: version, name: name, up: try text("\(dir)/\(tag).sql"), down: nil, timestamp: entry["when"]?.intValue, label: tag)
        }
    }
}
