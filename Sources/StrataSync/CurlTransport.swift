import CCurl
import StrataCore
import Foundation

/// An HTTP request as the registry client sends it.
package struct HTTPRequest: Sendable {
    package var method: String
    package var url: String
    package var headers: [String: String]
    package var body: [UInt8]?

    package init(method: String, url: String, headers: [String: String] = [:], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

package struct HTTPResponse: Sendable {
    package let status: Int
    package let body: [UInt8]

    package init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// The transport failed before any HTTP answer (connection refused, timeout, TLS).
package struct TransportError: Error, CustomStringConvertible, Sendable {
    package let code: Int
    package let message: String

    package init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}

/// Sends requests; the registry client is written against this, so a fault
/// that cannot be produced for real can be injected in a test.
package protocol Transport: AnyObject {
    func send(_ request: HTTPRequest) throws -> HTTPResponse
}

/// libcurl's easy interface, one handle reused across requests (so the
/// connection is kept alive). Blocking: call it from a thread that may block
/// (the CLI's main thread, or `ThreadedTransport`'s own thread), never from
/// Swift's cooperative pool.
package final class CurlTransport: Transport {
    /// Nil when libcurl could not be loaded (every request then says why).
    private let handle: UnsafeMutableRawPointer?
    package let connectTimeout: Int
    package let timeout: Int
    /// A PEM file of CA certificates trusted instead of the system's, for a
    /// registry whose certificate a private CA signed.
    package let caFile: String?
    /// How many connections libcurl has opened so far (CURLINFO_NUM_CONNECTS
    /// summed): 1 for any number of requests to one registry that keeps the
    /// connection alive.
    package private(set) var connectionsOpened = 0

    /// libcurl is loaded (and globally initialised) once, by the first
    /// transport: commands that never reach the registry never load it.
    private static let loaded: Bool = strata_curl_load() == 1

    package init(connectTimeoutSeconds: Int = 5, timeoutSeconds: Int = 60, caFile: String? = nil) {
        handle = CurlTransport.loaded ? strata_curl_easy_init() : nil
        connectTimeout = connectTimeoutSeconds
        timeout = timeoutSeconds
        self.caFile = caFile
    }

    deinit { if let handle { strata_curl_easy_cleanup(handle) } }

    /// Collects the response body; passed to the C callback as an unmanaged pointer.
    private final class Sink {
        var bytes: [UInt8] = []
    }

    package func send(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let curl = handle else {
            throw CurlUnavailable(reason: String(cString: strata_curl_error()))
        }
        strata_curl_easy_reset(curl)
        let sink = Sink()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { strata_curl_slist_free_all(headerList) }
        for (name, value) in request.headers { headerList = strata_curl_slist_append(headerList, "\(name): \(value)") }
        headerList = strata_curl_slist_append(headerList, "Expect:") // no 100-continue round trip

        _ = strata_curl_setopt_string(curl, CURLOPT_URL, request.url)
        _ = strata_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
        _ = strata_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT, connectTimeout)
        _ = strata_curl_setopt_long(curl, CURLOPT_TIMEOUT, timeout)
        // https: verify the certificate and the host name (libcurl's defaults, made explicit).
        _ = strata_curl_setopt_long(curl, CURLOPT_SSL_VERIFYPEER, 1)
        _ = strata_curl_setopt_long(curl, CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile { _ = strata_curl_setopt_string(curl, CURLOPT_CAINFO, caFile) }
        _ = strata_curl_setopt_string(curl, CURLOPT_CUSTOMREQUEST, request.method)
        if let body = request.body {
            _ = strata_curl_setopt_long(curl, CURLOPT_POST, 1)
            _ = strata_curl_setopt_off_t(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            // COPYPOSTFIELDS copies POSTFIELDSIZE bytes (set first), so the
            // Swift buffer need not outlive the call; an empty body still
            // needs a valid pointer.
            var bytes = body.isEmpty ? [UInt8(0)] : body
            bytes.withUnsafeMutableBytes { buffer in
                _ = strata_curl_setopt_pointer(curl, CURLOPT_COPYPOSTFIELDS, buffer.baseAddress)
            }
        } else if request.method == "GET" {
            _ = strata_curl_setopt_long(curl, CURLOPT_HTTPGET, 1)
        }
        _ = strata_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, headerList)
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }
        _ = strata_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, context.toOpaque())
        // A closure that captures nothing, so it converts to a C function pointer.
        _ = strata_curl_setopt_write_function(curl) { data, size, count, userdata in
            let n = size * count
            guard let data, let userdata else { return n }
            let sink = Unmanaged<Sink>.fromOpaque(userdata).takeUnretainedValue()
            data.withMemoryRebound(to: UInt8.self, capacity: n) { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
            return n
        }
        let rc = strata_curl_easy_perform(curl)
        guard rc == CURLE_OK else {
            throw TransportError(code: Int(rc.rawValue), message: String(cString: strata_curl_easy_strerror(rc)))
        }
        var status = 0
        _ = strata_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
        var opened = 0
        _ = strata_curl_getinfo_long(curl, CURLINFO_NUM_CONNECTS, &opened)
        connectionsOpened += opened
        return HTTPResponse(status: status, body: sink.bytes)
    }
}

/// Runs a blocking transport on a dedicated thread and resumes the caller
/// through a continuation: the async API for code on Swift's cooperative pool
/// (2 threads on these machines; a blocking call there starves an
/// in-process server and hangs).
package final class ThreadedTransport: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var thread: Thread?

    package init(makeTransport: @escaping @Sendable () -> Transport = { CurlTransport() }) {
        let t = Thread { [condition] in
            let transport = makeTransport()
            self.transportForThread = transport
            while true {
                condition.lock()
                while self.jobs.isEmpty { condition.wait() }
                let job = self.jobs.removeFirst()
                condition.unlock()
                job()
            }
        }
        t.name = "strata-curl"
        thread = t
        t.start()
    }

    private var transportForThread: Transport?

    package func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            jobs.append { [self] in
                do { continuation.resume(returning: try transportForThread!.send(request)) } catch { continuation.resume(throwing: error) }
            }
            condition.signal()
            condition.unlock()
        }
    }
}

/// libcurl could not be loaded: no request can be sent, and retrying will not
/// help (the registry client does not retry it).
package struct CurlUnavailable: Error, CustomStringConvertible, Sendable {
    package let reason: String
    package var description: String {
        "libcurl cannot be loaded (\(reason)): strata loads it to reach a registry; install it (apt-get install libcurl4) and run the command again"
    }
}

extension CurlUnavailable: StrataError {
    package var exitStatus: ExitStatus { .unreachable }
    package var errorCode: String { "registry.no_libcurl" }
}

extension TransportError: StrataError {
    package var exitStatus: ExitStatus { .unreachable }
    package var errorCode: String { "registry.transport" }
}
