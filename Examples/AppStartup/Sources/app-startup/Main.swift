import Foundation
import Strata

/// `app-startup BUNDLE DATABASE [downgrade|refuse|leave] [BUDGET_MS]`: what
/// an app does at launch, before it opens its database for real. The
/// bundle is the app's resource (`strata bundle --out schema.strata`).
@main
enum AppStartup {
    static func main() {
        let args = CommandLine.arguments
        guard args.count >= 3 else {
            FileHandle.standardError.write(Data("usage: app-startup BUNDLE DATABASE [downgrade|refuse|leave] [BUDGET_MS]\n".utf8))
            exit(2)
        }
        let ifAhead: SchemaMigrator.AheadPolicy = switch args.count > 3 ? args[3] : "downgrade" {
        case "refuse": .refuse
        case "leave": .leave
        default: .downgrade
        }
        let budget = args.count > 4 ? Int(args[4]).map { Duration.milliseconds($0) } : nil
        do {
            // Every id is recomputed here: a bundle edited on the way is refused.
            let history = try SchemaHistory(contentsOf: URL(fileURLWithPath: args[1]))
            let migrator = SchemaMigrator(history: history)
            let result = try migrator.migrate(databaseAt: args[2], to: .head, ifAhead: ifAhead, appliedBy: "app-startup", node: "example",
                                              budget: budget) { step in
                print("  \(step.forward ? "ran" : "undid") \(step.event.shortID) \(step.event.message) (\(step.done)/\(step.total))")
            }
            let short = { (id: String?) in id.map { String($0.prefix(12)) } ?? "base" }
            switch result.status {
            case .complete: print("\(args[2]): \(short(result.from)) -> \(short(result.to))")
            case .incomplete(let remaining): print("\(args[2]): \(short(result.from)) -> \(short(result.to)), \(remaining.count) events left for the next launch")
            case .leftAhead: print("\(args[2]): left at \(short(result.to)), ahead of this build's \(short(history.head))")
            }
            for kept in result.kept { print("  kept \(kept)") }
        } catch let error as MigratorError {
            // Typed: an app can tell "written by a newer build" from a failure.
            print("refused (\(error.errorCode)): \(error)")
            exit(3)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }
}
