import Foundation
import StrataCore
import StrataSQLite
import StrataStore
import StrataSync
import StrataRegistry

/// Exit codes (DESIGN.md): 0 done, 1 a check found a difference, 2 usage or
/// input error, 3 conflict with the registry, 4 registry unreachable or refused.
enum ExitCodes {
    static let difference: Int32 = 1
    static let usage: Int32 = 2
    static let conflict: Int32 = 3
    static let unreachable: Int32 = 4

    /// The one place where errors meet exit codes.
    static func code(for error: Error) -> Int32? {
        switch error {
        case let f as StrataFailure: return f.code
        case let e as SyncError:
            switch e {
            case .conflict, .diverged: return conflict
            case .unreachable, .refused, .badResponse: return unreachable
            case .rejected, .notConfigured: return usage
            }
        case is RegistryError: return usage
        case is MergeConflict: return conflict
        case is ProjectError, is ConfigError, is ModelsError, is SchemaError, is HistoryError, is MigrationError,
             is InspectionError, is SQLiteError, is EventDecodingError:
            return usage
        case let e as LogError:
            return e.kind == .corrupt ? difference : usage
        case is CocoaError:
            return usage
        default:
            return nil
        }
    }
}

/// A failure the CLI itself decides on, with its exit code.
struct StrataFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    var description: String { message }

    static func usage(_ message: String) -> StrataFailure { StrataFailure(code: ExitCodes.usage, message: message) }
}

func report(_ error: Error) -> Never {
    let code = ExitCodes.code(for: error) ?? ExitCodes.usage
    var message = "\(error)"
    if let e = error as? CocoaError, let path = e.userInfo[NSFilePathErrorKey] as? String {
        message = "cannot access \(path): \(e.localizedDescription)"
    }
    if !message.isEmpty {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }
    exit(code)
}

/// Prints to stderr (warnings, progress that is not the command's output).
func warn(_ text: String) {
    FileHandle.standardError.write(Data("warning: \(text)\n".utf8))
}
