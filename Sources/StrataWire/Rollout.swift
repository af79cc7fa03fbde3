import Foundation
import StrataCore

/// A promote in waves: the nodes of wave 1 (canaries first) get the new
/// target, then, once every database of the open waves reported at it and
/// the soak time passed, the nodes of the next wave; more failed databases
/// than `maxFailures` halt it, and no later wave opens.
///
/// The registry keeps it in its store (one per environment, the latest),
/// so every registry process on a shared store drives the same rollout.
package struct Rollout: Sendable, Equatable {
    package enum State: String, Sendable, CaseIterable {
        /// Waves open as the open ones reach the target.
        case running
        /// Too many databases failed: no wave opens until `resume`.
        case halted
        /// Held by an admin: no wave opens until `resume`.
        case paused
        /// Every node sent back to `from`.
        case aborted
        /// Every wave reached the target.
        case done
        /// A later promote replaced it: the environment's target holds.
        case replaced
    }

    /// Whether it still decides the nodes' targets.
    package var isActive: Bool { [.running, .halted, .paused].contains(state) }

    /// One admin's or the registry's step, for `rollout status`.
    package struct Step: Sendable, Equatable {
        package var action: String
        package var by: String
        package var at: String
        package var detail: String?

        package init(action: String, by: String, at: String, detail: String? = nil) {
            (self.action, self.by, self.at, self.detail) = (action, by, at, detail)
        }
    }

    package var environment: String
    /// The target before the promote (nil: the environment had none).
    package var from: String?
    package var to: String
    /// The cumulative share of the environment's nodes each wave reaches.
    package var percents: [Int]
    /// The nodes each wave adds.
    package var waves: [[String]]
    package var maxFailures: Int
    package var soakSeconds: Int
    /// How many waves are open (1 at the start).
    package var opened: Int
    package var state: State
    /// When the open waves had all reached the target (the soak runs from
    /// there); nil while they have not.
    package var reachedAt: String?
    /// Why it halted: the failed databases, as their nodes reported them.
    package var reason: String?
    package var steps: [Step]

    package init(environment: String, from: String?, to: String, percents: [Int], waves: [[String]], maxFailures: Int, soakSeconds: Int,
                 startedBy: String, at time: String) {
        self.environment = environment
        self.from = from
        self.to = to
        self.percents = percents
        self.waves = waves
        self.maxFailures = maxFailures
        self.soakSeconds = soakSeconds
        opened = 1
        state = .running
        steps = [Step(action: "start", by: startedBy, at: time, detail: "wave 1 of \(waves.count): \(waves[0].joined(separator: ", "))")]
    }

    /// Nodes in the waves that are open.
    package var openNodes: Set<String> { Set(waves.prefix(opened).joined()) }

    /// The revision `node` should be at now (nil: none, an environment
    /// that had no target before the rollout, for a node of a wave not open).
    package func target(for node: String) -> String? {
        switch state {
        case .done, .replaced: return to
        case .aborted: return from
        case .running, .halted, .paused:
            return openNodes.contains(node) || !waves.joined().contains(node) && opened == waves.count ? to : from
        }
    }

    /// The databases of the open waves, by how they stand.
    package struct Progress: Sendable, Equatable {
        package var atTarget: [Report] = []
        package var pending: [Report] = []
        package var failed: [Report] = []
    }

    /// When it started (the registry's clock).
    package var startedAt: String { steps.first?.at ?? "" }

    /// How the open waves' databases stand, from their nodes' last reports
    /// in this environment (`reportedAt`: when the registry took each). A
    /// failure counts when it was reported after the rollout started.
    package func progress(_ reports: [(report: Report, reportedAt: String)]) -> Progress {
        var p = Progress()
        let open = openNodes
        for (r, at) in reports where r.environment == environment && open.contains(r.node) {
            if r.revision == to && r.failure == nil { p.atTarget.append(r) } else if r.failure != nil && at >= startedAt { p.failed.append(r) } else { p.pending.append(r) }
        }
        return p
    }

    /// The rollout after what the reports say and the time it is: halted
    /// past `maxFailures`, the next wave opened once the open ones reached
    /// the target and soaked, done after the last. Nil when nothing changed.
    package func advanced(by reports: [(report: Report, reportedAt: String)], now: Int64) -> Rollout? {
        guard state == .running else { return nil }
        var next = self
        let p = progress(reports)
        let time = Timestamp.iso8601(now)
        if p.failed.count > maxFailures {
            next.state = .halted
            next.reason = p.failed.map { "\($0.node) \($0.database): \($0.failure ?? "")" }.joined(separator: "; ")
            next.steps.append(Step(action: "halt", by: "registry", at: time, detail: "\(p.failed.count) failed, more than --max-failures \(maxFailures)"))
            return next
        }
        // Every node of the open waves has reported, each database at the target.
        let reported = Set(reports.filter { $0.report.environment == environment }.map(\.report.node))
        guard p.pending.isEmpty, openNodes.isSubset(of: reported) else { return nil }
        let last = opened == waves.count
        if next.reachedAt == nil {
            next.reachedAt = time
            // A soak holds the next wave back; after the last there is none.
            if soakSeconds > 0 && !last {
                next.steps.append(Step(action: "reach", by: "registry", at: time,
                                       detail: "wave \(opened) of \(waves.count) at \(to.prefix(12)); the next step after a soak of \(soakSeconds) s"))
                return next
            }
        }
        let since = Timestamp.parse(next.reachedAt!) ?? now
        guard last || now - since >= Int64(soakSeconds) * 1000 else { return nil }
        if last {
            next.state = .done
            next.steps.append(Step(action: "done", by: "registry", at: time, detail: "every wave at \(to.prefix(12))"))
        } else {
            next.opened += 1
            next.reachedAt = nil
            next.steps.append(Step(action: "open", by: "registry", at: time,
                                   detail: "wave \(next.opened) of \(waves.count): \(waves[next.opened - 1].joined(separator: ", "))"))
        }
        return next
    }

    /// The waves for `nodes` (sorted by name, `canaries` first): wave k
    /// reaches `percents[k]`% of them, rounded up, and at least one node
    /// more than the wave before while any is left.
    package static func waves(of nodes: [String], percents: [Int], canaries: [String]) -> [[String]] {
        let order = canaries + nodes.sorted().filter { !canaries.contains($0) }
        var waves: [[String]] = [], taken = 0
        for (k, percent) in percents.enumerated() {
            var reach = (order.count * percent + 99) / 100
            if k == 0 { reach = max(reach, canaries.count) }
            reach = min(order.count, max(reach, taken + 1))
            waves.append(Array(order[taken..<max(taken, reach)]))
            taken = max(taken, reach)
        }
        return waves
    }

    /// `10%,50%,100%`: increasing, each 1 to 100, the last 100.
    package static func parsePercents(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.map { p -> Int? in Int(p.hasSuffix("%") ? String(p.dropLast()) : p) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && (1...100).contains($0!) }) else {
            throw WireError("waves: expected percentages from 1% to 100% separated by commas, as 10%,50%,100%")
        }
        let percents = values.map { $0! }
        try check(percents)
        return percents
    }

    static func check(_ percents: [Int]) throws {
        guard zip(percents, percents.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw WireError("waves: each wave must reach more of the nodes than the one before (\(percents.map { "\($0)%" }.joined(separator: ",")))")
        }
        guard percents.last == 100 else {
            throw WireError("waves: the last wave must reach 100% of the nodes (\(percents.map { "\($0)%" }.joined(separator: ",")))")
        }
    }
}

extension Rollout {
    package var json: JSON {
        .object([
            "environment": .string(environment), "from": .optional(from), "to": .string(to),
            "percents": .array(percents.map { .int(Int64($0)) }),
            "waves": .array(waves.map { .array($0.map(JSON.string)) }),
            "max_failures": .int(Int64(maxFailures)), "soak_seconds": .int(Int64(soakSeconds)),
            "opened": .int(Int64(opened)), "state": .string(state.rawValue),
            "reached_at": .optional(reachedAt), "reason": .optional(reason),
            "steps": .array(steps.map { .object(["action": .string($0.action), "by": .string($0.by), "at": .string($0.at), "detail": .optional($0.detail)]) }),
        ])
    }

    package init(json: JSON) throws {
        let f = try Fields(json, "rollout")
        guard let state = State(rawValue: try f.string("state")) else { throw WireError("rollout: unknown state") }
        environment = try f.string("environment")
        from = try f.optionalString("from")
        to = try f.string("to")
        percents = try f.array("percents").map { Int($0.intValue ?? 0) }
        waves = try f.array("waves").map { ($0.arrayValue ?? []).compactMap(\.stringValue) }
        maxFailures = Int(try f.int("max_failures"))
        soakSeconds = Int(try f.int("soak_seconds"))
        opened = Int(try f.int("opened"))
        self.state = state
        reachedAt = try f.optionalString("reached_at")
        reason = try f.optionalString("reason")
        steps = try f.array("steps").map { s in
            let g = try Fields(s, "rollout step")
            return Step(action: try g.string("action"), by: try g.string("by"), at: try g.string("at"), detail: try g.optionalString("detail"))
        }
    }
}

/// `PUT /environments/{environment}`'s `rollout`: how to roll the target out.
package struct RolloutRequest: Sendable, Equatable {
    package var percents: [Int]
    package var canaries: [String]
    package var maxFailures: Int
    package var soakSeconds: Int

    package init(percents: [Int], canaries: [String] = [], maxFailures: Int = 0, soakSeconds: Int = 0) {
        (self.percents, self.canaries, self.maxFailures, self.soakSeconds) = (percents, canaries, maxFailures, soakSeconds)
    }

    package var json: JSON {
        .object(["waves": .array(percents.map { .int(Int64($0)) }), "canaries": .array(canaries.map(JSON.string)),
                 "max_failures": .int(Int64(maxFailures)), "soak_seconds": .int(Int64(soakSeconds))])
    }

    package init(json: JSON) throws {
        let f = try Fields(json, "rollout")
        let waves = try f.array("waves")
        guard !waves.isEmpty, waves.count <= 100, waves.allSatisfy({ ($0.intValue).map { (1...100).contains($0) } ?? false }) else {
            throw WireError("rollout: \"waves\" must be 1 to 100 percentages, each from 1 to 100")
        }
        percents = waves.map { Int($0.intValue!) }
        try Rollout.check(percents)
        canaries = try (json["canaries"]?.arrayValue ?? []).map { c in
            guard let name = c.stringValue else { throw WireError("rollout: \"canaries\" must be node names") }
            return try Names.check(name, "rollout: canary")
        }
        maxFailures = Int(try f.optionalInt("max_failures") ?? 0)
        soakSeconds = Int(try f.optionalInt("soak_seconds") ?? 0)
        guard (0...1_000_000).contains(maxFailures) else { throw WireError("rollout: \"max_failures\" must be from 0 to 1000000") }
        guard (0...86_400 * 30).contains(soakSeconds) else { throw WireError("rollout: \"soak_seconds\" must be from 0 to 2592000 (30 days)") }
    }
}

/// `GET …/rollout`: the rollout, and its open waves' databases by how they stand.
package struct RolloutStatus: Sendable, Equatable {
    package struct Database: Sendable, Equatable {
        package var node: String
        package var database: String
        package var revision: String
        package var failure: String?
    }
    package var rollout: Rollout
    package var atTarget: [Database]
    package var pending: [Database]
    package var failed: [Database]

    /// The rollout and how its open waves stand, from the nodes' last reports.
    package init(_ rollout: Rollout, reports: [(report: Report, reportedAt: String)]) {
        let p = rollout.progress(reports)
        func list(_ reports: [Report]) -> [Database] {
            reports.map { Database(node: $0.node, database: $0.database, revision: $0.revision, failure: $0.failure) }
        }
        self.rollout = rollout
        (atTarget, pending, failed) = (list(p.atTarget), list(p.pending), list(p.failed))
    }

    package var json: JSON {
        func list(_ databases: [Database]) -> JSON {
            .array(databases.map { .object(["node": .string($0.node), "database": .string($0.database), "revision": .string($0.revision), "failure": .optional($0.failure)]) })
        }
        var body = rollout.json.objectValue ?? [:]
        body["progress"] = .object(["at_target": list(atTarget), "pending": list(pending), "failed": list(failed)])
        return .object(body)
    }

    package init(json: JSON) throws {
        rollout = try Rollout(json: json)
        let progress = try Fields(try Fields(json, "rollout").value("progress"), "rollout progress")
        func databases(_ key: String) throws -> [Database] {
            try progress.array(key).map { d in
                let f = try Fields(d, "rollout database")
                return Database(node: try f.string("node"), database: try f.string("database"), revision: try f.string("revision"), failure: try f.optionalString("failure"))
            }
        }
        (atTarget, pending, failed) = (try databases("at_target"), try databases("pending"), try databases("failed"))
    }
}
