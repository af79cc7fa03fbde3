import Foundation
import XCTest

/// Runs the built `strata` binary in a scratch project directory.
final class CLI: @unchecked Sendable {
    let dir: URL
    var env: [String: String] = [:]

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// The repository's root (ops/ scripts the tests run live there).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["STRATA_BIN"] { return URL(fileURLWithPath: path) }
        // The test bundle sits next to the products it was built with.
        var candidates = [Bundle.main.bundleURL.appendingPathComponent("strata")]
        for bundle in Bundle.allBundles { candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("strata")) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("strata"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func read(_ name: String) throws -> String {
        try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
    }

    func write(_ name: String, _ text: String) throws {
        let url = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func process(_ args: [String]) -> Process {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = args
        p.currentDirectoryURL = dir
        var environment = ProcessInfo.processInfo.environment
        environment.merge(env) { $1 }
        p.environment = environment
        return p
    }

    @discardableResult
    func run(_ args: String..., file: StaticString = #filePath, line: UInt = #line) throws -> Result { try run(args) }

    func run(_ args: [String]) throws -> Result {
        let r = try CLI.finish(process(args))
        return Result(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self))
    }

    /// How long one command may run before the test kills it and fails:
    /// a hang becomes a failure that names the command, not a stalled suite.
    static let commandLimit = ProcessInfo.processInfo.environment["STRATA_TEST_COMMAND_LIMIT"].flatMap(Double.init) ?? 600

    /// Runs `p` to its end and returns what it printed. Both pipes are read
    /// at once: a child that fills one while the test waits on the other
    /// would hang them both. Past `limit` seconds the child is killed, the
    /// test fails, and the status is 124 (as timeout(1) has it).
    static func finish(_ p: Process, limit: Double = commandLimit, file: StaticString = #filePath, line: UInt = #line) throws -> (status: Int32, stdout: Data, stderr: Data) {
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let printed = Printed()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) {
            let data = out.fileHandleForReading.readDataToEndOfFile()
            printed.lock.withLock { printed.stdout = data }
        }
        DispatchQueue.global().async(group: readers) {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            printed.lock.withLock { printed.stderr = data }
        }
        if readers.wait(timeout: .now() + limit) == .timedOut {
            let command = ([p.executableURL?.lastPathComponent ?? "?"] + (p.arguments ?? [])).joined(separator: " ")
            XCTFail("\(command) ran past \(Int(limit)) s: killed", file: file, line: line)
            Foundation.kill(p.processIdentifier, SIGKILL)
            _ = readers.wait(timeout: .now() + 10) // a grandchild may still hold a pipe
            p.waitUntilExit()
            return printed.lock.withLock { (124, printed.stdout, printed.stderr) }
        }
        p.waitUntilExit()
        return printed.lock.withLock { (p.terminationStatus, printed.stdout, printed.stderr) }
    }

    private final class Printed: @unchecked Sendable {
        let lock = NSLock()
        var stdout = Data(), stderr = Data()
    }

    /// Runs and expects exit 0.
    @discardableResult
    func ok(_ args: String..., file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let r = try run(args)
        XCTAssertEqual(r.status, 0, "strata \(args.joined(separator: " ")): \(r.stderr)", file: file, line: line)
        return r
    }

    func sqlite(_ db: String, _ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [db.hasPrefix("/") ? db : path(db), sql]
        let r = try CLI.finish(p)
        FileHandle.standardError.write(r.stderr) // the shell's complaints, in the test's output as before
        return String(decoding: r.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A second project directory with this one's settings and a copy of its
    /// log as it is now (another node that has seen the same history).
    func copy() throws -> CLI {
        let other = try CLI()
        try FileManager.default.copyItem(atPath: path("strata.toml"), toPath: other.path("strata.toml"))
        try FileManager.default.createDirectory(atPath: other.path(".strata"), withIntermediateDirectories: true)
        _ = try sqlite(".strata/log.db", "VACUUM INTO '\(other.path(".strata/log.db"))'")
        return other
    }

    func tree() throws -> [String: Data] {
        var result: [String: Data] = [:]
        let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)!
        for case let url as URL in e where !url.hasDirectoryPath {
            result[url.path] = try Data(contentsOf: url)
        }
        return result
    }
}

/// Another process holding the write lock of a database (`BEGIN IMMEDIATE`
/// in the sqlite3 shell) until `release()`. A separate process: POSIX drops
/// a process's locks on a file when it closes any descriptor of it, which
/// the test's own reads of the file would do.
final class LockHolder {
    private let process = Process()
    private let input = Pipe()

    init(_ path: String) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data("BEGIN IMMEDIATE;\n.print ready\n".utf8))
        _ = output.fileHandleForReading.availableData // "ready": the lock is held
    }

    func release() {
        guard process.isRunning else { return }
        input.fileHandleForWriting.write(Data("ROLLBACK;\n.quit\n".utf8))
        process.waitUntilExit()
    }

    deinit { release() }
}
