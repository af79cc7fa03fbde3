import StrataCore
import StrataSQLite

/// An error of the local log, with what to do about it.
package struct LogError: Error, CustomStringConvertible, Sendable, Equatable {
    package enum Kind: Sendable, Equatable { case notFound, ambiguous, invalid, conflict, corrupt, locked, full }
    /// What went wrong, where a caller may add what to do about it (the CLI
    /// names its commands; this layer names none).
    package enum Reason: Sendable, Equatable {
        case severalHeads, empty, notARevision, noMatch, noLog, unreadable, other
    }
    package let kind: Kind
    package let reason: Reason
    package let message: String
    package init(_ kind: Kind, _ message: String, reason: Reason = .other) {
        self.kind = kind
        self.reason = reason
        self.message = message
    }
    package var description: String { message }
}

/// The local, append-only store of one project's events.
package protocol EventLog: AnyObject, EventSource {
    /// How many events the log holds.
    func count() throws -> Int
    func contains(_ id: String) throws -> Bool
    /// Events no other event names as a parent, oldest first.
    func heads() throws -> [String]
    /// Every event, in append order (parents before children).
    func allEvents() throws -> [Event]
    /// Full ids that start with `prefix`.
    func ids(withPrefix prefix: String) throws -> [String]
    /// Appends events atomically, parents first. With `expectedHeads`, the
    /// append is a compare-and-swap: it fails if the heads changed meanwhile.
    func append(_ events: [Event], expectedHeads: [String]?) throws
    func snapshot(at id: String) throws -> Schema?
    /// Whether snapshots are kept (a cache: the log is the truth).
    var snapshotInterval: Int { get }
    func saveSnapshot(_ schema: Schema, at id: String) throws
    /// Ids of the events that hold a data step (`exec`), in any order: few,
    /// and what lint's BC106 needs without reading the whole log.
    func idsWithDataSteps() throws -> [String]
}

extension EventLog {
    /// The only head; an error naming them when there are two or more.
    package func head() throws -> String? {
        let hs = try heads()
        if hs.count > 1 {
            throw LogError(.conflict, "the log has \(hs.count) heads (\(hs.map { String($0.prefix(12)) }.joined(separator: ", "))))", reason: .severalHeads)
        }
        return hs.first
    }

    /// A full id from `head`, `base` (nil), a full id, or a unique prefix of 4+ characters.
    package func resolve(_ revision: String) throws -> String? {
        let r = revision.lowercased()
        if r == "head" {
            guard let h = try head() else { throw LogError(.notFound, "the log is empty: there is no head yet", reason: .empty) }
            return h
        }
        if r == "base" { return nil }
        guard r.count >= 4, r.allSatisfy({ $0.isHexDigit }) else {
            throw LogError(.notFound, "\(revision) is not a revision: name one by `head`, `base`, or 4 or more hex digits of its id", reason: .notARevision)
        }
        let matches = try ids(withPrefix: r)
        switch matches.count {
        case 0: throw LogError(.notFound, "no revision starts with \(revision) in the local log", reason: .noMatch)
        case 1: return matches[0]
        default:
            throw LogError(.ambiguous, "\(revision) is ambiguous: it starts \(matches.count) revisions (\(matches.prefix(4).map { String($0.prefix(12)) }.joined(separator: ", "))); give more digits")
        }
    }

    /// The schema at a revision, from the nearest snapshot on its first-parent
    /// chain plus the events after it: the cost depends on the snapshot
    /// interval, not on the log's length.
    package func state(at id: String?) throws -> Schema {
        guard let id else { return .empty }
        var cursor: String? = id
        while let c = cursor {
            if let snap = try snapshot(at: c) {
                return try fold(snap, try range(from: c, to: id))
            }
            cursor = try event(c).parents.first
        }
        return try fold(.empty, try range(from: nil, to: id))
    }

    func fold(_ start: Schema, _ events: [Event]) throws -> Schema {
        var s = start
        for e in events {
            do { try s.apply(e.ops) } catch let error as SchemaError {
                throw LogError(.corrupt, "event \(e.id.prefix(12)) does not apply to the state before it: \(error.message)")
            }
        }
        return s
    }
}


/// Checks events before they are appended: parents known, ops apply.
struct AppendValidator {
    let log: EventLog
    var known: [String: Event] = [:]
    var states: [String: Schema] = [:]
    /// Made on the first event that carries SQL text.
    var fragments: FragmentChecker?
    /// How many events of the batch still name each event as a parent: a
    /// state is kept while one does, so that a push of 10,000 events holds
    /// about one state at a time, not 10,000 (each as large as the schema).
    var children: [String: Int] = [:]

    init(log: EventLog) { self.log = log }

    /// Says which events will be checked, so that only states a later one
    /// needs are kept.
    mutating func expect(_ events: [Event]) {
        for e in events { for p in e.parents { children[p, default: 0] += 1 } }
    }

    /// The last event checked and the state after it. A chain's state
    /// moves from one event to the next through here, never copied: a
    /// push of 10,000 table-creating events stays linear.
    var last: (id: String, state: Schema)?

    /// Returns the state after `e`, or throws why `e` cannot be appended.
    /// The caller must not keep the returned state past the next check
    /// (holding it would make the next event copy it); `last` keeps it.
    mutating func check(_ e: Event, cachedParentState: (String, Schema)?) throws -> Schema {
        for p in e.parents where known[p] == nil {
            guard try log.contains(p) else {
                throw LogError(.invalid, "event \(e.id.prefix(12)) names parent \(p.prefix(12)), which is not in the log; pull it first")
            }
        }
        var after: Schema
        if e.parents.count == 1, last?.id == e.parents[0] {
            after = last!.state
            last = nil
        } else if e.parents.count == 1, let s = states[e.parents[0]] {
            after = s
        } else if e.parents.count == 1, let cached = cachedParentState, cached.0 == e.parents[0] {
            after = cached.1
        } else if e.parents.isEmpty {
            after = .empty
        } else {
            after = try stateBefore(e)
        }
        if fragments == nil { fragments = try FragmentChecker() }
        try fragments!.check(e)
        do { try after.apply(e.ops) } catch let error as SchemaError {
            throw LogError(.invalid, "event \(e.id.prefix(12)) (\(e.message)) does not apply: \(error.message)")
        }
        known[e.id] = e
        for p in e.parents {
            children[p, default: 0] -= 1
            if children[p, default: 0] <= 0 { states[p] = nil }
        }
        // A second child in the batch (a branch) finds it here.
        if children[e.id, default: 0] > 1 { states[e.id] = after }
        last = (e.id, after)
        return after
    }

    /// The state an event's ops apply to, from states this validator
    /// computed, else the log's (snapshot-backed) states.
    func stateBefore(_ e: Event) throws -> Schema {
        let source = Overlay(log: log, pending: known)
        do {
            return try source.stateBefore(e) { try states[$0] ?? source.stateAt($0) }
        } catch let error as SchemaError {
            throw LogError(.invalid, "merge \(e.id.prefix(12)): the branches do not combine: \(error.message)")
        }
    }
}

/// The log plus events not yet appended.
struct Overlay: EventSource {
    let log: EventLog
    let pending: [String: Event]

    func event(_ id: String) throws -> Event {
        if let e = pending[id] { return e }
        return try log.event(id)
    }

    func height(_ id: String) throws -> Int {
        if let e = pending[id] { return 1 + (try e.parents.map { try height($0) }.max() ?? 0) }
        return try log.height(id)
    }

    func stateAt(_ id: String) throws -> Schema {
        if pending[id] == nil { return try log.state(at: id) }
        return try range(from: nil, to: id).reduce(into: Schema.empty) { s, e in try s.apply(e.ops) }
    }
}

extension LogError: StrataError {
    /// A corrupt log is a difference found (as `verify` reports one); the rest are refusals.
    package var exitStatus: ExitStatus {
        switch kind {
        case .corrupt: return .difference
        case .full: return .unreachable  // the machine's state, not the input: try again with space
        default: return .usage
        }
    }
    package var errorCode: String {
        switch kind {
        case .notFound: return "log.not_found"
        case .ambiguous: return "log.ambiguous"
        case .invalid: return "log.invalid"
        case .conflict: return "log.conflict"
        case .corrupt: return "log.corrupt"
        case .locked: return "log.locked"
        case .full: return "log.full"
        }
    }
}
