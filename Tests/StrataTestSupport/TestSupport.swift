import Foundation
import StrataCore

/// A deterministic pseudo-random generator (SplitMix64), so a failing seed
/// replays.
package struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    package init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The seed in `variable` when set (to replay a failure), else a fresh one.
    package static func seed(from variable: String) -> UInt64 {
        ProcessInfo.processInfo.environment[variable].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64(UInt32.max))
    }
}

/// A linear history of `n` events, each creating a table `TAGi`.
package func eventChain(_ n: Int, from parent: String? = nil, tag: String = "t", author: String = "a") -> [Event] {
    var events: [Event] = []
    var p = parent
    for i in 0..<n {
        let e = Event(parents: p.map { [$0] } ?? [], author: author, timestamp: Int64(i), message: "\(tag)\(i)",
                      ops: [.createTable(Table(name: "\(tag)\(i)", columns: [Column(name: "id", type: "INTEGER")]), indexes: [], triggers: [])])
        events.append(e)
        p = e.id
    }
    return events
}
