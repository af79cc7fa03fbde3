import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StrataCore
import StrataRegistry
import StrataSync

/// The registry's application in this process on 127.0.0.1:0, reached
/// through the real libcurl client (on its own thread, so the server keeps
/// Swift's cooperative pool).
struct InProcessRegistry {
    let port: Int
    let group: ServiceGroup
    let task: Task<Void, Error>

    static func start(_ service: RegistryService) async throws -> InProcessRegistry {
        var options = RegistryOptions()
        options.port = 0
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = buildApplication(service: service, options: options, logger: Logger(label: "test")) { continuation.yield($0) }
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: Logger(label: "test"))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return InProcessRegistry(port: port, group: group, task: task)
    }

    /// One request to `path` (from `/`) with a bearer token.
    func send(_ method: String, _ path: String, token: String, body: [UInt8]? = nil) async throws -> StrataSync.HTTPResponse {
        try await ThreadedTransport().send(StrataSync.HTTPRequest(method: method, url: "http://127.0.0.1:\(port)\(path)",
                                                       headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"], body: body))
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
