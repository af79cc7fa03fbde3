import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Trash: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trash",
            abstract: "What the databases keep of dropped data, so that a downgrade brings it back; --purge drops it.",
            discussion: """
                A dropped column's values, a dropped table's rows and the values an alter rewrites are kept in the database \\
                itself (strata_trash), in the migration's transaction, and the inverse op restores them. `keep_dropped_data = \\
                false` in strata.toml stops keeping. Purging cannot be undone: a later downgrade past that event brings the \\
                schema back without the data.
                """)

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions
        @OptionGroup var runFlags: RunFlags
        @OptionGroup var output: JSONOption
        @Option(help: ArgumentHelp("Drop what is kept for this event in each database.", valueName: "REV")) var purge: String?

        func run() throws {
            let p = try project.open()
            let paths = try runFlags.paths(databases, in: p, command: "trash")
            let printer = RunPrinter(paths: paths, json: output.json) { (t: DatabaseTrash) in
                let verb = purge == nil ? "keeps" : "purged"
                var lines: [String] = []
                if t.stashes.isEmpty {
                    lines.append(purge == nil ? "\(t.database): keeps nothing" : "\(t.database): nothing kept for \(purge!)")
                } else {
                    let rows = t.stashes.reduce(0) { $0 + $1.rows }
                    lines.append("\(t.database): \(verb) \(rows) row\(rows == 1 ? "" : "s") in \(t.stashes.count) stash\(t.stashes.count == 1 ? "" : "es")")
                    for s in t.stashes {
                        let size = s.bytes.map { ", \(Trash.size($0))" } ?? ""
                        lines.append("  \(s.event.short) \(s.direction == .up ? "up  " : "down")  \(s.what): \(s.rows) row\(s.rows == 1 ? "" : "s")\(size), kept \(s.keptAt)")
                    }
                }
                return (verb, lines, .object(["database": .string(t.database), "stashes": .array(t.stashes.map { s in
                    .object(["event": .string(s.event), "direction": .string(s.direction.rawValue), "what": .string(s.what),
                             "rows": .int(Int64(s.rows)), "bytes": s.bytes.map { .int(Int64($0)) } ?? .null, "kept_at": .string(s.keptAt)])
                })]))
            }
            let failed = try p.trash(paths, purge: purge, options: runFlags.options, each: printer.handle)
            try printer.finish(failed, order: [purge == nil ? "keeps" : "purged"], project: p, command: nil)
            if purge == nil && !output.json { print("`strata trash --purge REV` drops what an event kept") }
        }

        static func size(_ bytes: Int) -> String {
            bytes < 1024 ? "\(bytes) B" : bytes < 1 << 20 ? "\(bytes / 1024) KB" : "\(bytes >> 20) MB"
        }
    }
}
