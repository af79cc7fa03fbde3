import Strata
import StrataCore

/// The library says what is wrong; the CLI adds which command does what
/// was meant. Every error the CLI prints goes through here.
enum Advice {
    static func message(for error: Error) -> String {
        guard let e = error as? MigratorError else { return "\(error)" }
        func short(_ id: String?) -> String { id.map { String($0.prefix(12)) } ?? "base" }
        switch e {
        case .emptyHistory:
            return "the log is empty: there is no head to upgrade to; run `strata revision --autogenerate -m MESSAGE` first"
        case .severalHeads, .unknownRevision, .noDatabase, .atBase, .relative(.crossesMerge), .relative(.offPath):
            return "\(e)"
        case .upgradeToBase: return "upgrade goes forward; to go to base use `strata downgrade base`"
        case let .ahead(_, target): return "\(e); to go back use `strata downgrade \(short(target))`"
        case .diverged: return "\(e); downgrade it to a common ancestor first, or merge the heads"
        case .notBehind: return "\(e); use `strata upgrade` to go forward"
        case .relative(.pastHead): return "\(e); use `strata upgrade head`"
        case .relative(.pastBase): return "\(e); use `strata downgrade base`"
        }
    }
}
