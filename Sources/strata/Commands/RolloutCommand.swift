import ArgumentParser
import StrataCore
import StrataStore
import StrataSync
import StrataWire

extension StrataCommand {
    struct RolloutCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollout",
            abstract: "Show, pause, resume or abort an environment's rollout (started by `promote --waves`).",
            discussion: """
                status: the waves, which are open, and the open waves' databases at the target, pending and failed (with what \
                their nodes said), and who did what. pause holds the next wave back; resume goes on from a halted or paused \
                rollout (--max-failures raises the tolerance first); abort sends every node back to the previous target (the \
                derived downgrade; dropped data stays in each database's trash). pause, resume and abort need an admin token.
                """)

        enum Action: String, ExpressibleByArgument, CaseIterable { case status, pause, resume, abort }

        @OptionGroup var project: ProjectOptions
        @Argument(help: "status, pause, resume or abort.") var action: Action
        @Option(help: "The environment.") var env: String
        @Option(help: ArgumentHelp("With resume: the failed databases to tolerate from now on.", valueName: "N"))
        var maxFailures: Int?
        @OptionGroup var output: JSONOption

        func validate() throws {
            if maxFailures != nil && action != .resume { throw ValidationError("--max-failures goes with resume") }
            if let maxFailures, maxFailures < 0 { throw ValidationError("--max-failures must not be negative") }
        }

        func run() throws {
            let client = try project.open().registryClient()
            let status = action == .status ? try client.rollout(environment: env)
                : try client.rollout(environment: env, action: action.rawValue, maxFailures: maxFailures)
            if output.json { return printJSON(status.json) }
            print(status.lines.joined(separator: "\n"))
        }
    }
}

extension RolloutStatus {
    /// The status as `strata rollout status` prints it.
    var lines: [String] {
        let r = rollout
        var out = ["environment \(r.environment): \(r.from.map { String($0.prefix(12)) } ?? "base") -> \(r.to.prefix(12)), \(r.state.rawValue), "
                   + "wave \(r.opened) of \(r.waves.count) open (max failures \(r.maxFailures), soak \(r.soakSeconds) s)"]
        for (n, nodes) in r.waves.enumerated() {
            out.append("  wave \(n + 1) (\(r.percents[n])%): \(n < r.opened ? "open" : "waiting"): \(nodes.isEmpty ? "no new node" : nodes.joined(separator: ", "))")
        }
        out.append("databases of the open waves: \(atTarget.count) at the target, \(pending.count) pending, \(failed.count) failed")
        for d in failed { out.append("  failed \(d.node) \(d.database): \(d.failure ?? "")") }
        if let reason = r.reason { out.append("halted: \(reason)") }
        for s in r.steps { out.append("  \(s.at) \(s.by) \(s.action)\(s.detail.map { ": \($0)" } ?? "")") }
        return out
    }
}
