import Foundation
import Hummingbird
import StrataRegistry
import XCTest

/// docs/openapi.yaml and the router agree: every documented operation has a
/// route, and every `/v1` route and `/metrics` is documented (pages, when
/// they come, are not API and are left out).
final class OpenAPITests: XCTestCase {
    static var document: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.yaml")
    }

    /// `METHOD /path/{param}` for each operation under `paths:` (the file's
    /// own layout: a path at two spaces, its methods at four).
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOf: document, encoding: .utf8)
        var operations = Set<String>()
        var inPaths = false
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, let first = line.first, first != " " { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "put", "post", "delete", "patch", "head"].contains(method) { operations.insert("\(method.uppercased()) \(path)") }
            }
        }
        return operations
    }

    func testEveryDocumentedPathHasARouteAndEveryRouteIsDocumented() throws {
        let router = buildRouter(service: RegistryService(store: MemoryRegistryStore(), tokens: try TokenTable(text: "", source: "")),
                                 options: RegistryOptions())
        let routes = Set(router.routes.map { route -> String in
            // Hummingbird writes a capture as `:name`; OpenAPI as `{name}`.
            let path = "\(route.path)".split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            return "\(route.method) /\(path.joined(separator: "/"))"
        }.filter { $0.contains(" /v1/") || $0.hasSuffix(" /metrics") })
        let documented = try Self.documentedOperations()
        XCTAssertEqual(documented.count, 13, "the parser read the document: \(documented.sorted())")
        XCTAssertEqual(routes.subtracting(documented).sorted(), [], "routes missing from docs/openapi.yaml")
        XCTAssertEqual(documented.subtracting(routes).sorted(), [], "documented operations with no route")
    }
}
