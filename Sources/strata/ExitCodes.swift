import Foundation
import StrataCore

/// The one place where errors meet exit codes (docs/CONTRACT.md: 0 done,
/// 1 a check found a difference, 2 usage or input error, 3 conflict with
/// the registry, 4 registry unreachable or refused). strata's own errors
/// carry their status (`StrataError`); only foreign ones are mapped here.
enum ExitCodes {
    /// The status and stable code of an error; nil for ArgumentParser's own
    /// (help, version, usage), which it prints itself.
    static func classify(_ error: Error) -> (status: ExitStatus, code: String)? {
        switch error {
        case let e as StrataError: return (e.exitStatus, e.errorCode)
        case is CocoaError: return (.usage, "file.access")
        default: return nil
        }
    }
}

/// Prints `error: ...` on stderr (and with `--json` the same as a JSON
/// document on stdout, for scripts), then exits with the error's status.
func report(_ error: Error, status: ExitStatus, code: String, json: Bool) -> Never {
    var message = Advice.message(for: error)
    if let e = error as? CocoaError, let path = e.userInfo[NSFilePathErrorKey] as? String {
        message = "cannot access \(path): \(e.localizedDescription)"
    }
    if json {
        print(JSON.object(["error": .object(["code": .string(code), "message": .string(message), "exit": .int(Int64(status.rawValue))])]).prettyString)
    }
    if !message.isEmpty {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }
    exit(status.rawValue)
}
