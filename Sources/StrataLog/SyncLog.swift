import StrataCore

/// Who the registry says pushed an event, and when.
package typealias PushReceipt = (id: String, by: String, at: String)

/// One problem `verify` found, naming the event and why.
package struct LogProblem: CustomStringConvertible, Sendable {
    package let seq: Int64
    package let id: String
    package let reason: String

    package init(seq: Int64, id: String, reason: String) {
        self.seq = seq
        self.id = id
        self.reason = reason
    }

    package var description: String { "event #\(seq) \(id.prefix(12)): \(reason)" }
}

/// A node's log: the events, plus what syncing with the registry needs to
/// remember (which events the registry acknowledged and who pushed them,
/// the registry head last seen, reports waiting to be delivered). The
/// project and the syncer depend on this protocol, not on the SQLite file,
/// so both run against `MemoryEventLog` in unit tests.
package protocol SyncLog: EventLog {
    /// Where the log lives, for messages (`verify`).
    var location: String { get }

    /// A value kept with the log (`remote_head`: the registry's head as last seen).
    func meta(_ key: String) throws -> String?
    func setMeta(_ key: String, _ value: String?) throws

    /// Events the registry has not acknowledged, in append order.
    func unpublished() throws -> [Event]
    /// Replaces unpublished events with new ones (their rebased or redone
    /// versions) in one step; naming a pushed event is an error.
    func replaceUnpublished(_ ids: [String], with events: [Event]) throws
    /// Records acknowledgements from the registry, all or none.
    func markPushed(_ receipts: [PushReceipt]) throws
    /// Who pushed each acknowledged event, by id.
    func pushedInfo() throws -> [String: (by: String, at: String)]
    /// Appends events pulled from the registry together with who pushed
    /// them: both land, or neither.
    func appendPulled(_ events: [Event], receipts: [PushReceipt]) throws

    /// Reports that could not be delivered yet, oldest first.
    func enqueue(kind: String, body: String) throws
    func queued() throws -> [(seq: Int64, kind: String, body: String)]
    func dequeue(_ seq: Int64) throws

    /// Recomputes every id and link and folds every event; empty when sound.
    func verify() throws -> [LogProblem]
}
