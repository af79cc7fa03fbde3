/// Where the graph algorithms read events from: the local log, a database's
/// copies, or memory. `height` is 1 for a root, else 1 + the parents' maximum.
package protocol EventSource {
    func event(_ id: String) throws -> Event
    func height(_ id: String) throws -> Int
}

package struct HistoryError: Error, CustomStringConvertible, Sendable, Equatable {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// An in-memory event graph (tests, merges of several sources).
package struct EventGraph: EventSource, Sendable {
    package private(set) var events: [String: Event] = [:]
    package private(set) var heights: [String: Int] = [:]
    package private(set) var order: [String] = []

    package init(_ events: [Event] = []) {
        for e in events { try? add(e) }
    }

    package mutating func add(_ e: Event) throws { try add(e, parentHeights: { _ in nil }) }

    /// Adds an event whose parents may live elsewhere (`parentHeights` knows them).
    package mutating func add(_ e: Event, parentHeights: (String) -> Int?) throws {
        guard events[e.id] == nil else { return }
        var h = 0
        for p in e.parents {
            guard let ph = heights[p] ?? parentHeights(p) else { throw HistoryError("event \(e.id.prefix(12)) has an unknown parent \(p.prefix(12))") }
            h = max(h, ph)
        }
        events[e.id] = e
        heights[e.id] = h + 1
        order.append(e.id)
        heads.removeAll { e.parents.contains($0) }
        heads.append(e.id)
    }

    package func event(_ id: String) throws -> Event {
        guard let e = events[id] else { throw HistoryError("unknown revision \(id)") }
        return e
    }

    package func height(_ id: String) throws -> Int {
        guard let h = heights[id] else { throw HistoryError("unknown revision \(id)") }
        return h
    }

    /// Events that no other event names as a parent, oldest first; kept as
    /// events are added (a registry's log asks at every push).
    package private(set) var heads: [String] = []
}

extension EventSource {
    /// The events in `ancestors(head) \ ancestors(base)`, oldest first, in the
    /// order that defines the state: a depth-first post-order that visits the
    /// first parent before the second. So the state at a merge is its first
    /// parent's state plus the second branch's events.
    ///
    /// On a linear history this reads only the events between the two, which
    /// is what keeps `upgrade` and `schema --at` from growing with the log.
    package func range(from base: String?, to head: String) throws -> [Event] {
        if base == head { return [] }
        let baseHeight = try base.map { try height($0) } ?? 0
        var excluded: Set<String>?
        func isExcluded(_ id: String) throws -> Bool {
            guard let base else { return false }
            if id == base { return true }
            if try height(id) > baseHeight { return false }
            if excluded == nil { excluded = try ancestors(of: base) }
            return excluded!.contains(id)
        }
        var result: [Event] = []
        var done = Set<String>()
        // Iterative post-order DFS (logs can be 100k deep).
        var stack: [(id: String, expanded: Bool)] = [(head, false)]
        while let (id, expanded) = stack.popLast() {
            if done.contains(id) { continue }
            if expanded {
                done.insert(id)
                result.append(try event(id))
                continue
            }
            if try isExcluded(id) {
                done.insert(id)
                continue
            }
            let e = try event(id)
            stack.append((id, true))
            for p in e.parents.reversed() where !done.contains(p) { stack.append((p, false)) }
        }
        return result
    }

    /// The state an event's ops apply to: its first parent's state, plus for a
    /// merge the events only the second parent has (the order `range` defines).
    /// `stateAt` gives a revision's state however the caller can best get it
    /// (snapshots, a cache, a fold).
    package func stateBefore(_ e: Event, stateAt: (String) throws -> Schema) throws -> Schema {
        guard let first = e.parents.first else { return .empty }
        var s = try stateAt(first)
        if e.parents.count > 1 {
            for x in try range(from: first, to: e.parents[1]) { try s.apply(x.ops) }
        }
        return s
    }

    /// All ancestors of `id`, itself included.
    package func ancestors(of id: String) throws -> Set<String> {
        var seen: Set<String> = [id]
        var todo = [id]
        while let next = todo.popLast() {
            for p in try event(next).parents where seen.insert(p).inserted { todo.append(p) }
        }
        return seen
    }

    package func isAncestor(_ a: String, of b: String) throws -> Bool {
        if a == b { return true }
        if try height(a) >= height(b) { return false }
        return try ancestors(of: b).contains(a)
    }

    /// The event `n` steps back along first parents (`-n` in `downgrade -n`).
    package func firstParent(of id: String, steps: Int) throws -> String? {
        var current: String? = id
        for _ in 0..<steps {
            guard let c = current else { return nil }
            current = try event(c).parents.first
        }
        return current
    }
}
