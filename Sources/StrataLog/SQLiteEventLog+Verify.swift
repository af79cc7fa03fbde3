import StrataCore

extension SQLiteEventLog {
    /// Recomputes every id from the stored bytes, checks every parent link and
    /// height, folds every event onto the state before it, and compares the
    /// derived tables (heads, snapshots) with what the events say.
    package func verify() throws -> [LogProblem] {
        var problems: [LogProblem] = []
        var heights: [String: Int] = [:]
        var hasChild = Set<String>()
        var previous: (id: String, state: Schema)?
        var graph = EventGraph()
        for row in try rawRows() {
            func problem(_ reason: String) { problems.append(LogProblem(seq: row.seq, id: row.id, reason: reason)) }
            let event: Event
            do { event = try Event(canonical: row.body) } catch {
                problem("its stored bytes are not a valid event (\(error)); the log was changed outside strata")
                continue
            }
            if event.id != row.id {
                problem("its id does not match the SHA-256 of its contents (\(event.id.prefix(12))): the event was changed after it was recorded")
                continue
            }
            var ok = true
            for p in event.parents where heights[p] == nil {
                problem("its parent \(p.prefix(12)) is not earlier in the log")
                ok = false
            }
            guard ok else { continue }
            let height = 1 + (event.parents.compactMap { heights[$0] }.max() ?? 0)
            if height != row.height { problem("its stored height \(row.height) should be \(height)") }
            heights[event.id] = height
            hasChild.formUnion(event.parents)
            try? graph.add(event)

            var state: Schema
            do {
                if event.parents.isEmpty {
                    state = .empty
                } else if event.parents.count == 1, let prev = previous, prev.id == event.parents[0] {
                    state = prev.state
                } else {
                    state = try graph.stateBefore(event) { try graph.range(from: nil, to: $0).reduce(into: Schema.empty) { try $0.apply($1.ops) } }
                }
                try state.apply(event.ops)
            } catch {
                problem("its ops do not apply to the state before it: \(error)")
                previous = nil
                continue
            }
            previous = (event.id, state)
            if let snap = try snapshot(at: event.id), snap != state {
                problem("the cached snapshot of its state is wrong (it is ignored, and reported until the log is rebuilt)")
            }
        }
        let expectedHeads = Set(heights.keys).subtracting(hasChild)
        let storedHeads = Set(try heads())
        if expectedHeads != storedHeads {
            problems.append(LogProblem(seq: 0, id: "", reason: "the heads table lists \(storedHeads.count) heads but the events have \(expectedHeads.count)"))
        }
        return problems
    }
}
