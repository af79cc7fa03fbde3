import ArgumentParser
import StrataStore

extension StrataCommand {
    struct BundleCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bundle",
            abstract: "Write the events up to REV to one file, for an app to ship and migrate from.",
            discussion: """
                The file is canonical JSON and keeps every signature. An app opens it with the Strata library \
                (SchemaHistory(contentsOf:)), which recomputes every id, and migrates its database at start-up (SchemaMigrator).
                """)

        @OptionGroup var project: ProjectOptions
        @Option(help: ArgumentHelp("The newest revision to include: head or 4+ hex digits.", valueName: "REV")) var at = "head"
        @Option(help: ArgumentHelp("The file to write (replaced if it exists).", valueName: "FILE")) var out: String

        func run() throws {
            let p = try project.open()
            let file = p.path(out)
            let written = try p.bundle(at: at, to: file)
            print("\(file): \(written.events) event\(written.events == 1 ? "" : "s") up to \(written.head.map { String($0.prefix(12)) } ?? "base"), \(written.bytes) bytes")
        }
    }
}
