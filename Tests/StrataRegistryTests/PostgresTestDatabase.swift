import Foundation
import Logging
import PostgresNIO
import XCTest

/// A database of its own on the PostgreSQL server that ops/test starts
/// (`ops/postgres start`), named by STRATA_TEST_POSTGRES.
struct PostgresTestDatabase: Sendable {
    let name: String
    let url: String
    let server: String

    static func create() async throws -> PostgresTestDatabase {
        guard let server = ProcessInfo.processInfo.environment["STRATA_TEST_POSTGRES"], !server.isEmpty else {
            throw TestSetupError("STRATA_TEST_POSTGRES is not set: run the tests with ops/test, which starts a PostgreSQL server (ops/postgres start DIR prints the variable)")
        }
        let name = "strata_test_\(UUID().uuidString.prefix(8).lowercased())"
        try await admin(server, "CREATE DATABASE \(name)")
        var c = URLComponents(string: server)!
        c.path = "/\(name)"
        return PostgresTestDatabase(name: name, url: c.string!, server: server)
    }

    func drop() async throws { try await PostgresTestDatabase.admin(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }

    /// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
    static func closedPort() async throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs one statement on the server's own database.
    static func admin(_ server: String, _ sql: String) async throws {
        let c = URLComponents(string: server)!
        let config = PostgresClient.Configuration(host: c.host!, port: c.port ?? 5432, username: c.user!, password: c.password,
                                                  database: String(c.path.dropFirst()), tls: .disable)
        let client = PostgresClient(configuration: config, backgroundLogger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: sql))
        }
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
