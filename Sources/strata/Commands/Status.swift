import ArgumentParser
import StrataCore
import StrataStore

extension StrataCommand {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "The node's databases at a glance: revision, how far from head, drift, last applied.",
            discussion: "Over many databases, also a summary by revision (480 at 2d32b0ab (head), 18 1 behind, 2 drifted).")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var databases: DatabaseOptions
        @OptionGroup var runFlags: RunFlags
        @OptionGroup var output: JSONOption

        /// Past this many databases, the lines are left out and only the summary printed.
        static let listedAtMost = 50

        func run() throws {
            let p = try project.open()
            let paths = try runFlags.paths(databases, in: p, command: "status")
            var byPlace: [String: Int] = [:]
            var drifted = 0
            let listing = paths.count <= Status.listedAtMost
            let printer = RunPrinter(paths: paths, json: output.json) { (s: DatabaseStatus) in
                let place = Status.place(s)
                byPlace[place, default: 0] += 1
                if !s.drift.isEmpty { drifted += 1 }
                var line = "\(s.database): \(place)"
                if !s.drift.isEmpty { line += ", DRIFTED (\(s.drift.count) change\(s.drift.count == 1 ? "" : "s"))" }
                if let last = s.lastApplied { line += "; last \(last.direction) \(last.appliedAt) by \(last.appliedBy) on \(last.node)" }
                var json: [String: JSON] = [
                    "database": .string(s.database), "revision": .string(s.revision ?? "base"), "head": .string(s.head ?? "base"),
                    "behind": s.behind.map { .int(Int64($0)) } ?? .null, "ahead": s.ahead.map { .int(Int64($0)) } ?? .null,
                    "drift": .array(s.drift.map(JSON.string)),
                ]
                if let last = s.lastApplied {
                    json["last_applied"] = .object(["revision": .string(last.revision), "direction": .string(last.direction),
                                                    "at": .string(last.appliedAt), "by": .string(last.appliedBy), "node": .string(last.node)])
                }
                return ("read", listing ? [line] : [], .object(json))
            }
            let failed = try p.status(paths, options: runFlags.options, each: printer.handle)
            if !output.json && paths.count > 1 {
                var parts = byPlace.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.value) \($0.key)" }
                if drifted > 0 { parts.append("\(drifted) drifted") }
                if !failed.isEmpty { parts.append("\(failed.count) unreadable") }
                print(parts.joined(separator: ", "))
                if !failed.isEmpty { throw ExitCode(ExitStatus.usage.rawValue) }
                return
            }
            try printer.finish(failed, order: ["read"], project: p, command: nil)
        }

        /// "at 2d32b0ab (head)", "at 1a2b3c4d (2 behind)", "at base (11 behind)", "at 9f8e7d6c (on another branch than head)".
        static func place(_ s: DatabaseStatus) -> String {
            let at = "at \(s.revision?.short ?? "base")"
            switch (s.behind, s.ahead) {
            case (0, 0): return s.revision == nil ? "at base (the log is empty)" : "\(at) (head)"
            case let (behind?, 0): return "\(at) (\(behind) behind)"
            case let (0, ahead?): return "\(at) (\(ahead) ahead)"
            default: return "\(at) (on another branch than head)"
            }
        }
    }
}
