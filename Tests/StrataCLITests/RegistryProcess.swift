import Foundation
import XCTest

/// `strata registry serve` as a child process on 127.0.0.1, port 0 (or a
/// given port, to restart on the same address).
final class RegistryProcess: @unchecked Sendable {
    let dir: URL
    let store: String
    let tokens: String
    var process: Process?
    private(set) var port = 0
    var extraArguments: [String] = []

    static let tokenLines = """
        ana push s3cret-ana nodes=alpha,n0,n3
        bo push s3cret-bo nodes=beta,n1,n4
        cy push s3cret-cy nodes=gamma,prod,n2,n5
        root admin s3cret-root
        viewer read s3cret-view

        """

    /// `store`: a postgres:// URL, else a SQLite file of the registry's own.
    init(store: String? = nil, extraArguments: [String] = []) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        self.store = store ?? dir.appendingPathComponent("registry.db").path
        tokens = dir.appendingPathComponent("tokens.txt").path
        try RegistryProcess.tokenLines.write(toFile: tokens, atomically: true, encoding: .utf8)
        self.extraArguments = extraArguments
        try start()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Where the registry's request log (stderr) goes.
    var logPath: String { dir.appendingPathComponent("registry.log").path }

    func start() throws {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["registry", "serve", "--port", String(port), "--store", store, "--tokens", tokens, "--project", "shop"] + extraArguments
        let out = Pipe()
        p.standardOutput = out
        XCTAssertTrue(FileManager.default.createFile(atPath: logPath, contents: nil))
        p.standardError = FileHandle(forWritingAtPath: logPath)
        try p.run()
        process = p
        // Wait for "strata registry listening on http://127.0.0.1:PORT", read
        // on another thread so that a registry that never says it does not
        // hang the test past the deadline.
        let line = LockedText()
        let said = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            while !line.value.contains("\n") {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line.append(String(decoding: chunk, as: UTF8.self))
            }
            said.signal()
        }
        let started = said.wait(timeout: .now() + 60) == .success
        let text = line.value
        guard started, let range = text.range(of: "listening on http://127.0.0.1:"),
              let bound = Int(text[range.upperBound...].prefix { $0.isNumber }) else {
            if !started { Foundation.kill(p.processIdentifier, SIGKILL) }
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw NSError(domain: "RegistryProcess", code: 1, userInfo: [NSLocalizedDescriptionKey: "registry did not start\(started ? "" : " within 60 s"): \(text) \(log.suffix(2000))"])
        }
        port = bound
    }

    /// SIGTERM: a clean shutdown, which must end within 30 s (else the
    /// test fails and the process is killed).
    func stop(file: StaticString = #filePath, line: UInt = #line) {
        guard let p = process, p.isRunning else { return }
        p.terminate()
        if !p.waitForExit(within: 30) {
            XCTFail("the registry did not stop within 30 s of SIGTERM", file: file, line: line)
            kill()
        }
    }

    /// SIGKILL: no chance to clean up.
    func kill() {
        guard let p = process, p.isRunning else { return }
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: dir)
    }
}

/// Text appended by one thread and read by another.
final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    var value: String { lock.withLock { text } }
    func append(_ more: String) { lock.withLock { text += more } }
}

extension Process {
    /// Waits up to `seconds` for the process to end: false if it still runs.
    func waitForExit(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { usleep(10_000) }
        guard !isRunning else { return false }
        waitUntilExit()
        return true
    }
}

extension CLI {
    /// A node of project "shop" talking to `registry` with `token`.
    static func node(_ name: String, registry: RegistryProcess, token: String) throws -> CLI {
        let cli = try CLI()
        cli.env["STRATA_TOKEN"] = token
        try cli.ok("init", "--project", "shop", "--node", name, "--models", "models.sql", "--db", "app.db",
                   "--registry", registry.url, "--author", "\(name)@example.com")
        return cli
    }

    func ids() throws -> [String] {
        (try JSONSerialization.jsonObject(with: Data(try ok("history", "--json").stdout.utf8)) as! [[String: Any]]).map { $0["id"] as! String }
    }

    func json(_ args: String...) throws -> Any { try json(args) }

    func json(_ args: [String]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try run(args).stdout.utf8))
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago: the kernel picks it
/// for a socket bound to port 0, which is then closed. For servers (such as
/// `openssl s_server`) that cannot report the port they were given.
func freeLocalPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
        }
    }
    guard bound else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
func waitUntilListening(on port: Int, timeout: TimeInterval = 20) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        close(fd)
        if connected { return }
        usleep(50_000)
    }
    throw POSIXError(.ETIMEDOUT)
}
