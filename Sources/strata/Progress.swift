import Foundation
import StrataSync

/// A pull or a push of many events draws one line on stderr, rewritten in
/// place: events done, the rate, and the time left. Only on a terminal,
/// only for an exchange that takes more than one request, and at most ten times a second; the
/// line ends with a newline once the pull is over. Nothing at all when
/// stderr is not a terminal (scripts and CI see the same output as before).
final class ProgressLine: @unchecked Sendable {
    private var started: Date?
    private var lastDrawn = Date.distantPast
    private var drawn = false

    /// The line on a terminal; nil when stderr is not one.
    static let shared: ProgressLine? = isatty(2) == 1 ? ProgressLine() : nil

    func update(_ transfer: Syncer.Transfer, done received: Int, remaining: Int?) {
        let now = Date()
        if started == nil { started = now }
        // The start: the clock runs from here, nothing is drawn yet.
        if received == 0 && remaining != 0 { return }
        let done = remaining == 0
        // An exchange that fits in one request says nothing here.
        guard drawn || !done else { return }
        guard done || now.timeIntervalSince(lastDrawn) >= 0.1 else { return }
        lastDrawn = now
        drawn = true
        let seconds = max(now.timeIntervalSince(started!), 0.001)
        let rate = Double(received) / seconds
        var text = "\(transfer.rawValue) \(received.formatted()) "
        if let remaining { text += "of \((received + remaining).formatted()) " }
        text += "events, \(Int(rate).formatted())/s"
        if let remaining, remaining > 0, rate > 0 { text += ", about \(Int((Double(remaining) / rate).rounded(.up))) s left" }
        FileHandle.standardError.write(Data("\r\(text)\u{1B}[K\(done ? "\n" : "")".utf8))
        if done { drawn = false; started = nil }
    }
}

/// What the CLI does with a sync's warnings and progress: warnings on
/// stderr, progress as the line above.
struct TerminalObserver: SyncObserver {
    static let shared = TerminalObserver()
    func warn(_ message: String) { strata.warn(message) }
    func progress(_ transfer: Syncer.Transfer, done: Int, remaining: Int?) { ProgressLine.shared?.update(transfer, done: done, remaining: remaining) }
}
