import ArgumentParser
import Foundation
import StrataCore
import StrataStore
import StrataSync

/// Entry point: parses, runs, and turns every error into `error: ...` on
/// stderr with the exit code its type declares (see ExitCodes.swift).
@main
enum Main {
    /// `strata -C DIR COMMAND ...` (git's order) means `strata COMMAND -C DIR ...`.
    static func leadingDirectoryMoved(_ args: [String]) -> [String] {
        guard args.count >= 3, args[0] == "-C" else { return args }
        return [args[2], "-C", args[1]] + args[3...]
    }

    /// The only place strata reads its environment variables: the layers
    /// below are told.
    static func readEnvironment() {
        let environment = ProcessInfo.processInfo.environment
        if let fixed = environment["STRATA_NOW"], let ms = Timestamp.parse(fixed) { Clock.fix(at: ms) }
        if environment["STRATA_TIMINGS"] == "1" { Timings.enable() }
        Invocation.set(user: environment["STRATA_USER"], token: environment["STRATA_TOKEN"])
    }

    static func main() {
        let arguments = leadingDirectoryMoved(Array(CommandLine.arguments.dropFirst()))
        readEnvironment()
        do {
            var command = try StrataCommand.parseAsRoot(arguments)
            try command.run()
        } catch {
            if let (status, code) = ExitCodes.classify(error) { report(error, status: status, code: code, json: arguments.contains("--json")) }
            // What is left comes from ArgumentParser: help, version, an
            // ExitCode a command chose, or a usage error.
            if error is ExitCode || StrataCommand.exitCode(for: error) == .success {
                StrataCommand.exit(withError: error)
            }
            let message = StrataCommand.message(for: error)
            FileHandle.standardError.write(Data("error: \(message)\nrun `strata --help` (or `strata COMMAND --help`) for usage\n".utf8))
            exit(ExitStatus.usage.rawValue)
        }
    }
}
