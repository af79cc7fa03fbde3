import Foundation
import Hummingbird
import ServiceLifecycle
import StrataCore
import StrataWire
import Synchronization

/// Counts the target changes this process made, so that a watch in the
/// same process wakes at once; a change another registry process made (on
/// a shared PostgreSQL store) is seen by reading the store once a second.
package final class TargetChanges: Sendable {
    private let count = Mutex(0)
    func changed() { count.withLock { $0 += 1 } }
    var generation: Int { count.withLock { $0 } }
}


extension RegistryService {
    /// `GET …/environments/{environment}/watch?revision=R&wait=S`: the
    /// environment's target as soon as it is not `revision` (at once when
    /// the request names none, or another one), else the same target once
    /// `wait` seconds have passed. An agent holds one open at a time: it
    /// learns of a promote within a fraction of a second (a second when
    /// another registry process made it) without asking again and again.
    /// `node`: the target of that node, which a rollout decides.
    nonisolated func watch(project: String, environment: String, node: String?, known: String?, wait: Int) async throws -> EnvironmentTarget {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(wait)
        var seen = targetChanges.generation
        var read = clock.now
        var target = try await self.target(of: project, environment: environment, node: node)
        // A server shutting down answers at once (with the same target):
        // it does not wait out its watches.
        while target.revision == known, clock.now < deadline, !Task.isShuttingDownGracefully {
            try await Task.sleep(for: .milliseconds(100))
            let generation = targetChanges.generation
            guard generation != seen || clock.now - read >= .seconds(1) else { continue }
            (seen, read) = (generation, clock.now)
            target = try await self.target(of: project, environment: environment, node: node)
        }
        return target
    }
}

func addWatchRoute(to router: Router<RegistryContext>, service: RegistryService) {
    router.get("/v1/projects/:project/environments/:environment/watch") { request, context in
        await answer {
            let project = try projectName(context)
            let environment = try environmentName(context)
            _ = try service.identify(request, context, needs: .read, project: project)
            let known = request.uri.queryParameters["revision"].map(String.init)
            if let known, !Event.isID(known) {
                throw HTTPFailure(.badRequest, "revision must be an event id (64 lowercase hex digits): the target the watcher knows", code: "request.invalid")
            }
            let waitText = request.uri.queryParameters["wait"].map(String.init)
            let wait = waitText.map { Int($0) ?? -1 } ?? WatchLimits.defaultWait
            guard (0...WatchLimits.maxWait).contains(wait) else {
                throw HTTPFailure(.badRequest, "wait must be a whole number of seconds from 0 to \(WatchLimits.maxWait)", code: "request.invalid")
            }
            let node = try nodeParameter(request)
            let target = try await service.watch(project: project, environment: environment, node: node, known: known, wait: wait)
            return json(.ok, target.json(nameKey: "environment"))
        }
    }
}
