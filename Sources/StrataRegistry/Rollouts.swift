import Foundation
import Hummingbird
import StrataCore
import StrataWire

/// Rollouts as the registry drives them: started by a promote with waves,
/// moved on by the reports the nodes send (and by the clock, for a soak),
/// read by each node as its own target. Every write is a compare-and-swap
/// on the stored rollout, so registry processes sharing a store never undo
/// each other's steps.
extension RegistryService {
    /// The target `node` is to reach (the environment's own when `node` is
    /// nil or no rollout decides it).
    nonisolated func target(of project: String, environment: String, node: String?) async throws -> EnvironmentTarget {
        guard let target = try await store.targets(of: project).first(where: { $0.name == environment }) else {
            throw HTTPFailure(.notFound, "environment \(environment) has no target; an admin sets one with `strata promote REV --env \(environment)`",
                              code: "environment.no_target")
        }
        guard let node, let stored = try await rollout(of: project, environment: environment, soakOnly: true), stored.rollout.isActive,
              let revision = stored.rollout.target(for: node) else { return target }
        return EnvironmentTarget(name: environment, revision: revision, setBy: target.setBy, setAt: target.setAt)
    }

    /// The environment's rollout, moved on first by what the reports and
    /// the clock say. `soakOnly`: only when a soak may have ended (the
    /// reports moved it when they came), so that a node's watch reads one
    /// row a second, not the fleet.
    nonisolated func rollout(of project: String, environment: String, soakOnly: Bool = false) async throws -> StoredRollout? {
        guard var stored = try await store.rollout(of: project, environment: environment) else { return nil }
        for _ in 0..<8 {
            let r = stored.rollout
            guard r.state == .running, !soakOnly || r.reachedAt != nil else { return stored }
            let reports = try await store.reports(of: project).timed
            guard let next = r.advanced(by: reports, now: Timestamp.parse(now()) ?? 0), let step = next.steps.last else { return stored }
            let note = AuditNote("rollout-\(step.action)", by: step.by, at: step.at, Self.detail(next, step))
            if try await store.saveRollout(next, of: project, expected: stored.version, target: nil, note: note) {
                targetChanges.changed()
                return StoredRollout(rollout: next, version: stored.version + 1)
            }
            // Another request or process moved it first: read it again.
            guard let again = try await store.rollout(of: project, environment: environment) else { return nil }
            stored = again
        }
        return stored
    }

    static func detail(_ r: Rollout, _ step: Rollout.Step) -> JSON {
        .object(["environment": .string(r.environment), "revision": .string(r.to), "state": .string(r.state.rawValue),
                 "wave": .int(Int64(r.opened)), "waves": .int(Int64(r.waves.count)), "detail": .optional(step.detail)])
    }

    /// `PUT …/environments/ENV`: the target set at once (no `rollout`), or
    /// rolled out in waves over the nodes that report in the environment.
    nonisolated func promote(_ revision: String, environment: String, of project: String, rollout request: RolloutRequest?, by who: String) async throws -> Rollout? {
        let time = now()
        let existing = try await store.rollout(of: project, environment: environment)
        let plain = AuditNote("promote", by: who, at: time, .object(["environment": .string(environment), "revision": .string(revision)]))
        guard let request else {
            if let existing, existing.rollout.isActive {
                var replaced = existing.rollout
                replaced.state = .replaced
                replaced.steps.append(Rollout.Step(action: "replace", by: who, at: time, detail: "a promote of \(revision.prefix(12)) without waves"))
                guard try await store.saveRollout(replaced, of: project, expected: existing.version, target: revision, note: plain) else { throw Self.raced(environment) }
            } else {
                try await store.setTarget(revision, environment: environment, of: project, by: who, at: time)
            }
            targetChanges.changed()
            return nil
        }
        guard let current = try await store.targets(of: project).first(where: { $0.name == environment }) else {
            throw HTTPFailure(.badRequest, "environment \(environment) has no target yet, so no node follows it: promote without waves first",
                              code: "rollout.no_nodes")
        }
        let nodes = Set(try await store.reports(of: project).filter { $0.report.environment == environment }.map(\.report.node)).sorted()
        guard !nodes.isEmpty else {
            throw HTTPFailure(.badRequest, "no node has reported in environment \(environment) yet, so there is nothing to roll out over: promote without waves, "
                              + "or let the nodes apply the current target first", code: "rollout.no_nodes")
        }
        for canary in request.canaries where !nodes.contains(canary) {
            throw HTTPFailure(.badRequest, "canary \(canary) is not a node of environment \(environment) (its nodes: \(nodes.joined(separator: ", "))); "
                              + "name one of them, or leave --canary out", code: "rollout.unknown_canary")
        }
        let waves = Rollout.waves(of: nodes, percents: request.percents, canaries: request.canaries)
        let rollout = Rollout(environment: environment, from: current.revision, to: revision, percents: request.percents, waves: waves,
                              maxFailures: request.maxFailures, soakSeconds: request.soakSeconds, startedBy: who, at: time)
        let note = AuditNote("promote", by: who, at: time, .object(["environment": .string(environment), "revision": .string(revision),
                                                                    "rollout": request.json]))
        guard try await store.saveRollout(rollout, of: project, expected: existing?.version, target: revision, note: note) else { throw Self.raced(environment) }
        targetChanges.changed()
        return rollout
    }

    static func noRollout(_ environment: String) -> HTTPFailure {
        HTTPFailure(.notFound, "environment \(environment) has no rollout; `strata promote REV --env \(environment) --waves 10%,100%` starts one",
                    code: "rollout.none")
    }

    static func raced(_ environment: String) -> HTTPFailure {
        HTTPFailure(.conflict, "another change to environment \(environment)'s rollout landed at the same moment; look at `strata rollout status` and try again",
                    code: "rollout.raced")
    }

    /// `pause`, `resume` (with a new failure allowance if given) or `abort`.
    nonisolated func act(_ action: String, maxFailures: Int?, environment: String, of project: String, by who: String) async throws -> Rollout {
        guard let stored = try await rollout(of: project, environment: environment) else {
            throw Self.noRollout(environment)
        }
        var r = stored.rollout
        let time = now()
        var target: String?
        switch (action, r.state) {
        case ("pause", .running):
            r.state = .paused
        case ("resume", .halted), ("resume", .paused):
            r.state = .running
            r.reason = nil
            if let maxFailures { r.maxFailures = maxFailures }
        case ("abort", .running), ("abort", .halted), ("abort", .paused):
            guard let from = r.from else { throw HTTPFailure(.badRequest, "the rollout has no earlier target to go back to", code: "rollout.state") }
            r.state = .aborted
            target = from
        default:
            let hint = action == "resume" ? "only a halted or paused rollout resumes" : action == "pause" ? "only a running rollout pauses"
                : "a rollout that is done, aborted or replaced is over"
            throw HTTPFailure(.badRequest, "the rollout of \(environment) is \(r.state.rawValue): \(hint); nothing was changed", code: "rollout.state")
        }
        let detail = action == "abort" ? "every node back to \(r.from.map { String($0.prefix(12)) } ?? "base")"
            : action == "resume" ? "max failures \(r.maxFailures)" : nil
        r.steps.append(Rollout.Step(action: action, by: who, at: time, detail: detail))
        let note = AuditNote("rollout-\(action)", by: who, at: time, Self.detail(r, r.steps.last!))
        guard try await store.saveRollout(r, of: project, expected: stored.version, target: target, note: note) else { throw Self.raced(environment) }
        targetChanges.changed()
        // A resumed rollout may move on at once.
        return try await rollout(of: project, environment: environment)?.rollout ?? r
    }

    /// After reports: every environment they name moves on if it can.
    nonisolated func advanceRollouts(of project: String, after reports: [Report]) async throws {
        for environment in Set(reports.compactMap(\.environment)).sorted() {
            _ = try await rollout(of: project, environment: environment)
        }
    }
}

/// A rollout and how its open waves' databases stand, as `GET …/rollout`
/// and `strata rollout status` show it.
func rolloutJSON(_ r: Rollout, reports: [StoredReport]) -> JSON {
    RolloutStatus(r, reports: reports.timed).json
}

func addRolloutRoutes(to router: Router<RegistryContext>, service: RegistryService, limit: Int) {
    router.get("/v1/projects/:project/environments/:environment/rollout") { request, context in
        await answer {
            let project = try projectName(context)
            let environment = try environmentName(context)
            _ = try service.identify(request, context, needs: .read, project: project)
            guard let stored = try await service.rollout(of: project, environment: environment) else {
                throw RegistryService.noRollout(environment)
            }
            return json(.ok, rolloutJSON(stored.rollout, reports: try await service.store.reports(of: project)))
        }
    }

    router.post("/v1/projects/:project/environments/:environment/rollout") { request, context in
        await answer {
            var request = request
            let project = try projectName(context)
            let environment = try environmentName(context)
            let who = try service.identify(request, context, needs: .admin, project: project)
            let body = try await readJSON(&request, limit: limit)
            guard let action = body["action"]?.stringValue, ["pause", "resume", "abort"].contains(action) else {
                throw HTTPFailure(.badRequest, "expected {\"action\": \"pause\" | \"resume\" | \"abort\"}", code: "request.invalid")
            }
            var maxFailures: Int?
            if let value = body["max_failures"], value != .null {
                guard let n = value.intValue, (0...1_000_000).contains(n) else {
                    throw HTTPFailure(.badRequest, "max_failures must be a whole number from 0 to 1000000", code: "request.invalid")
                }
                maxFailures = Int(n)
            }
            let r = try await service.act(action, maxFailures: maxFailures, environment: environment, of: project, by: who.name)
            return json(.ok, rolloutJSON(r, reports: try await service.store.reports(of: project)))
        }
    }
}
