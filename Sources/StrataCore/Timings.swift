import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a command's time goes, phase by phase, on stderr once the CLI
/// turned it on (`STRATA_TIMINGS=1`: a diagnostic for `ops/bench` and for
/// a user who asks why a command is slow).
package struct Timings: ~Copyable {
    private static let on = Atomic<Bool>(false)
    package static var enabled: Bool { on.load(ordering: .relaxed) }
    package static func enable() { on.store(true, ordering: .relaxed) }
    private var last: Double
    private var phases: [(String, Double)] = []
    private let what: String

    package init(_ what: String) {
        self.what = what
        last = Timings.now()
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) * 1000 + Double(t.tv_nsec) / 1_000_000
    }

    /// Ends the phase named `name`.
    package mutating func lap(_ name: String) {
        guard Timings.enabled else { return }
        let t = Timings.now()
        phases.append((name, t - last))
        last = t
    }

    deinit {
        guard Timings.enabled else { return }
        let text = phases.map { "\($0.0) \(Int(($0.1 * 10).rounded()) / 10).\(Int(($0.1 * 10).rounded()) % 10) ms" }.joined(separator: "; ")
        let line = Array("timings: \(what): \(text)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
