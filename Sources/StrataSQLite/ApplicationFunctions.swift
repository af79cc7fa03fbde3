import CSQLite
import Foundation
import Synchronization

/// SQL functions that the application registers on its own connections
/// (`app_functions` in strata.toml: authelia's `BIN2B64`, say), which a
/// migration's data step may call.
///
/// strata cannot compute them, but it must be able to prepare the
/// statements that name them: every connection strata opens gets a
/// stand-in for each, which SQLite accepts at prepare time and which fails
/// with a clear message when a row actually reaches it. A data step over an
/// empty table (an import, a proof, a fresh database) runs; one over rows
/// stops before anything is committed.
package enum ApplicationFunctions {
    private static let declared = Mutex<[String]>([])

    /// The names every connection opened from now on gets a stand-in for.
    package static func declare(_ names: [String]) {
        declared.withLock { $0 = names }
    }

    static var names: [String] { declared.withLock { $0 } }

    /// Registers the stand-ins on one connection.
    static func register(on handle: OpaquePointer) {
        for name in names {
            let message = "\(name)() is a function of the application (app_functions in strata.toml): strata cannot compute it, "
                + "and this step reaches it with rows; run this migration from the application, or rewrite the step in SQL"
            let context = strdup(message)
            sqlite3_create_function_v2(handle, name, -1, SQLITE_UTF8, context, { ctx, _, _ in
                sqlite3_result_error(ctx, sqlite3_user_data(ctx).assumingMemoryBound(to: CChar.self), -1)
            }, nil, nil, { free($0) })
        }
    }
}
