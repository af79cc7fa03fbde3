import Foundation
import StrataCore
import StrataWire
import XCTest

/// How a rollout splits nodes into waves and moves on, as the registry
/// decides it: exact waves, exact steps.
final class RolloutLogicTests: XCTestCase {
    let from = String(repeating: "a", count: 64), to = String(repeating: "b", count: 64)

    func testWavesAreCanariesFirstThenByNameEachReachingItsShare() {
        let nodes = (0..<10).map { "n\($0)" }
        XCTAssertEqual(Rollout.waves(of: nodes, percents: [10, 50, 100], canaries: ["n7"]),
                       [["n7"], ["n0", "n1", "n2", "n3"], ["n4", "n5", "n6", "n8", "n9"]])
        XCTAssertEqual(Rollout.waves(of: ["c", "a", "b"], percents: [30, 100], canaries: []), [["a"], ["b", "c"]])
        XCTAssertEqual(Rollout.waves(of: ["a", "b", "c"], percents: [10, 100], canaries: ["b", "c"]), [["b", "c"], ["a"]], "every canary in wave 1")
        XCTAssertEqual(Rollout.waves(of: ["a", "b"], percents: [10, 20, 30, 100], canaries: []), [["a"], ["b"], [], []], "fewer nodes than waves")
    }

    func testPercentsMustIncreaseAndEndAt100() throws {
        XCTAssertEqual(try Rollout.parsePercents("10%,50%,100%"), [10, 50, 100])
        XCTAssertEqual(try Rollout.parsePercents("100"), [100])
        for (text, message) in [("10%,50%", "waves: the last wave must reach 100% of the nodes (10%,50%)"),
                                ("50%,20%,100%", "waves: each wave must reach more of the nodes than the one before (50%,20%,100%)"),
                                ("0%,100%", "waves: expected percentages from 1% to 100% separated by commas, as 10%,50%,100%"),
                                ("ten,100", "waves: expected percentages from 1% to 100% separated by commas, as 10%,50%,100%")] {
            XCTAssertThrowsError(try Rollout.parsePercents(text)) { XCTAssertEqual("\($0)", message) }
        }
    }

    func report(_ node: String, _ revision: String, failure: String? = nil, at: String = "2026-01-01T00:00:10.000Z") -> (report: Report, reportedAt: String) {
        (Report(node: node, database: "app.db", revision: revision, direction: nil, at: at, environment: "prod", failure: failure), at)
    }

    func rollout(soak: Int = 0, maxFailures: Int = 0) -> Rollout {
        Rollout(environment: "prod", from: from, to: to, percents: [50, 100], waves: [["a"], ["b"]], maxFailures: maxFailures, soakSeconds: soak,
                startedBy: "root", at: "2026-01-01T00:00:00.000Z")
    }

    let now = Timestamp.parse("2026-01-01T00:00:20.000Z")!

    func testAWaveAtTheTargetOpensTheNextAndTheLastEndsIt() throws {
        let r = rollout()
        XCTAssertEqual(r.target(for: "a"), to)
        XCTAssertEqual(r.target(for: "b"), from)
        XCTAssertNil(r.advanced(by: [report("a", from), report("b", from)], now: now), "wave 1 is not there yet")
        let opened = try XCTUnwrap(r.advanced(by: [report("a", to), report("b", from)], now: now))
        XCTAssertEqual(opened.opened, 2)
        XCTAssertEqual(opened.target(for: "b"), to)
        XCTAssertEqual(opened.steps.map(\.action), ["start", "open"])
        let done = try XCTUnwrap(opened.advanced(by: [report("a", to), report("b", to)], now: now))
        XCTAssertEqual(done.state, .done)
        XCTAssertEqual(done.steps.last?.detail, "every wave at \(to.prefix(12))")
        XCTAssertNil(done.advanced(by: [report("a", to), report("b", to)], now: now), "a finished rollout stays")
    }

    func testASoakHoldsTheNextWave() throws {
        let reached = try XCTUnwrap(rollout(soak: 30).advanced(by: [report("a", to), report("b", from)], now: now))
        XCTAssertEqual(reached.opened, 1)
        XCTAssertEqual(reached.reachedAt, "2026-01-01T00:00:20.000Z")
        XCTAssertNil(reached.advanced(by: [report("a", to)], now: now + 29_999))
        XCTAssertEqual(reached.advanced(by: [report("a", to)], now: now + 30_000)?.opened, 2)
    }

    func testFailuresPastTheAllowanceHaltAndOlderOnesDoNotCount() throws {
        let failing = [report("a", from, failure: "database.drifted: it drifted"), report("b", from)]
        let halted = try XCTUnwrap(rollout().advanced(by: failing, now: now))
        XCTAssertEqual(halted.state, .halted)
        XCTAssertEqual(halted.reason, "a app.db: database.drifted: it drifted")
        XCTAssertEqual(halted.target(for: "b"), from, "no later wave receives the target")
        let tolerated = try XCTUnwrap(rollout(maxFailures: 1).advanced(by: failing, now: now))
        XCTAssertEqual(tolerated.state, .running, "one failure allowed: not halted")
        XCTAssertEqual(tolerated.opened, 2, "and the tolerated database does not hold the next wave")
        let before = [report("a", from, failure: "database.locked: old", at: "2025-12-31T23:59:59.000Z")]
        XCTAssertNil(rollout().advanced(by: before, now: now), "a failure reported before the rollout started is pending, not failed")
    }
}
