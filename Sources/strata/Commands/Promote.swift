import ArgumentParser
import StrataStore
import StrataSync
import StrataWire

extension StrataCommand {
    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "promote", abstract: "Set an environment's target revision on the registry (admin token), at once or in waves.",
            discussion: """
                With --waves the registry hands the target to the nodes of the first wave (the canaries first), and opens \
                each next wave once every database of the open ones reported at the target and --soak seconds passed. More \
                failed databases than --max-failures halt it: no later wave receives the target. `strata rollout` shows, \
                pauses, resumes and aborts it.
                """)

        @OptionGroup var project: ProjectOptions
        @Argument(help: "The revision: head or 4+ hex digits (it must be pushed).") var revision: String
        @Option(help: "The environment, e.g. prod.") var env: String
        @Flag(help: "Promote to a revision behind the current target even though its schema drops tables or columns (the nodes keep their rows in the trash).")
        var allowBackward = false

        @Option(help: ArgumentHelp("Roll out in waves, each reaching this share of the environment's nodes: 10%,50%,100%.", valueName: "PERCENTS"))
        var waves: String?

        @Option(help: ArgumentHelp("A node of the first wave, before any other (repeatable; with --waves).", valueName: "NODE"))
        var canary: [String] = []

        @Option(help: ArgumentHelp("Failed databases the rollout tolerates before it halts (default 0; with --waves).", valueName: "N"))
        var maxFailures: Int?

        @Option(help: ArgumentHelp("Seconds to wait once a wave is at the target before the next opens (default 0; with --waves).", valueName: "SECONDS"))
        var soak: Int?

        func validate() throws {
            if waves == nil && (!canary.isEmpty || maxFailures != nil || soak != nil) {
                throw ValidationError("--canary, --max-failures and --soak go with --waves")
            }
            if let maxFailures, maxFailures < 0 { throw ValidationError("--max-failures must not be negative") }
            if let soak, soak < 0 { throw ValidationError("--soak must not be negative") }
        }

        func run() throws {
            let rollout = try waves.map { RolloutRequest(percents: try Rollout.parsePercents($0), canaries: canary, maxFailures: maxFailures ?? 0, soakSeconds: soak ?? 0) }
            let (target, started) = try project.open().promote(revision, environment: env, allowBackward: allowBackward, rollout: rollout)
            guard let started else { return print("environment \(env) now targets \(target.revision)") }
            print("environment \(env) rolls out \(target.revision) in \(started.waves.count) waves; wave 1: \(started.waves[0].joined(separator: ", "))")
        }
    }
}
