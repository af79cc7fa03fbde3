import ArgumentParser
import Dispatch
import Foundation
import StrataCore
import StrataStore
import StrataSync
import StrataWire

extension StrataCommand {
    struct AgentCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "agent",
            abstract: "Keep this node's databases at an environment's target, following it as it changes.",
            discussion: """
                Runs in the foreground and logs to stderr, one line per pass. It watches the registry (a request the \
                registry holds open until the target changes) and moves every configured database to each new target, \
                reporting them in one request. When the registry is down the databases stay as they are and the agent \
                tries again after 1, 2, 4... seconds. It waits up to 5 s for a database another process has locked \
                (--wait says otherwise), and tries a locked one again after the next watch. SIGTERM or SIGINT ends it: at \
                once between passes, after the pass during one. Each database moves in its own transaction, so an agent killed mid-pass leaves each at its old \
                or its new revision, and the next start goes on. --once does one pass and exits (for cron).
                """)

        @OptionGroup var project: ProjectOptions

        @Option(help: "The environment whose target the databases follow (default: `environment` in strata.toml).")
        var env: String?

        @Flag(help: "One pass, then exit: 0 when every database is at the target, 2 when one failed, 4 when the registry cannot be reached.")
        var once = false

        @Option(help: ArgumentHelp("How long one watch waits for a change before it asks again (1 to \(WatchLimits.maxWait)).", valueName: "SECONDS"))
        var watch: Int = WatchLimits.defaultWait

        @Option(help: ArgumentHelp("How often to ask when the environment has no target yet, or the registry has no watch.", valueName: "SECONDS"))
        var poll: Double = 10

        @Option(help: ArgumentHelp("The longest wait between tries while the registry cannot be reached.", valueName: "SECONDS"))
        var maxBackoff: Double = 30

        @Option(help: ArgumentHelp("A lint code to go past (repeatable): an error-level finding of the events to run refuses the pass unless its author or this option accepted it.", valueName: "CODE"))
        var accept: [String] = []

        @OptionGroup var runFlags: RunFlags

        func validate() throws {
            if !(1...WatchLimits.maxWait).contains(watch) { throw ValidationError("--watch must be from 1 to \(WatchLimits.maxWait) seconds") }
            if poll <= 0 { throw ValidationError("--poll must be more than 0 seconds") }
            if maxBackoff < 1 { throw ValidationError("--max-backoff must be at least 1 second") }
            for code in accept where !Lint.codes.contains(where: { $0.code == code }) {
                throw ValidationError("--accept \(code): not a finding code; `strata lint --help` lists them")
            }
            if runFlags.retryFailed { throw ValidationError("--retry-failed does not go with agent: it retries failed databases itself") }
        }

        func run() throws {
            let p = try project.open()
            guard let env = env ?? p.config.environment else {
                throw ValidationError("name the environment to follow: --env ENV, or environment = \"ENV\" in strata.toml")
            }
            var settings = Agent.Settings(environment: env)
            (settings.wait, settings.poll, settings.maxBackoff, settings.options) = (watch, poll, maxBackoff, runFlags.options)
            // An app holds its database now and then: the agent waits for a lock 5 s unless told.
            if runFlags.wait == 0 { settings.options.waitSeconds = 5 }
            settings.accepted = Set(accept)
            let control = AgentControl()
            let say: @Sendable (String) -> Void = { FileHandle.standardError.write(Data("agent: \($0)\n".utf8)) }
            // A stop between passes ends the process now; during one, when the pass is over.
            var sources: [DispatchSourceSignal] = []
            for number in [SIGTERM, SIGINT] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    if control.requestStop() { say("stopped"); Foundation.exit(0) }
                    say("stopping after this pass")
                }
                source.resume()
                sources.append(source)
            }
            let agent = Agent(project: p, settings: settings, control: control, observer: TerminalObserver.shared, say: say,
                              explain: { Advice.message(for: $0) })
            if !once { say("following environment \(env) on \(p.config.registry ?? "no registry") (node \(p.config.node))") }
            let last = try agent.run(once: once)
            if !once { say("stopped") }
            if let last, !last.failed.isEmpty, once { throw ExitCode(2) }
            _ = sources
        }
    }
}
