import Foundation
import StrataCore

/// Who a bearer token says the caller is.
package struct Identity: Sendable, Equatable {
    package enum Role: Int, Sendable, Comparable, CaseIterable {
        case read = 0, push = 1, admin = 2
        package static func < (a: Role, b: Role) -> Bool { a.rawValue < b.rawValue }
        init?(name: String) {
            switch name {
            case "read": self = .read
            case "push": self = .push
            case "admin": self = .admin
            default: return nil
            }
        }
    }

    package let name: String
    package let role: Role
    /// The projects it may act on; nil for all.
    package let projects: Set<String>?
    /// The nodes it reports for (`nodes=` in the tokens file); nil for the
    /// node named as the token is.
    package let nodes: Set<String>?

    package init(name: String, role: Role, projects: Set<String>? = nil, nodes: Set<String>? = nil) {
        self.name = name
        self.role = role
        self.projects = projects
        self.nodes = nodes
    }

    package func mayAct(on project: String) -> Bool { projects.map { $0.contains(project) } ?? true }

    /// A node's reports come from its own identity: a token bound to it
    /// with `nodes=`, else one of the node's own name. An admin may
    /// report for any node (to correct the fleet's view by hand).
    package func mayReport(for node: String) -> Bool {
        role == .admin || (nodes.map { $0.contains(node) } ?? (node == name))
    }

    /// The nodes this identity reports for, in words.
    var reportsFor: String {
        guard let nodes else { return "node \(name) (its own name)" }
        return (nodes.count == 1 ? "node " : "nodes ") + nodes.sorted().joined(separator: ", ")
    }
}

/// The tokens file: one `NAME ROLE SECRET [PROJECT,...] [nodes=NODE,...]`
/// per line (`#` comments); without a project list the token acts on every
/// project, and without `nodes=` it reports only for the node named NAME. Only
/// SHA-256 hashes of the secrets are kept in memory; a SECRET written as
/// `sha256:HEX` lets the file itself hold no secret at all.
package struct TokenTable: Sendable {
    private var byHash: [String: Identity] = [:]

    package init(text: String, source: String) throws {
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            var nodes: Set<String>?
            if parts.count > 3, parts.last!.hasPrefix("nodes=") {
                nodes = Set(parts.removeLast().dropFirst("nodes=".count).split(separator: ",").map(String.init))
                if nodes!.isEmpty { throw RegistryError.invalid("\(source):\(n + 1): nodes= names no node") }
            }
            guard parts.count == 3 || parts.count == 4, let role = Identity.Role(name: parts[1]) else {
                throw RegistryError.invalid("\(source):\(n + 1): expected `NAME ROLE SECRET [PROJECT,...] [nodes=NODE,...]` with ROLE read, push or admin")
            }
            let projects = parts.count == 4 ? Set(parts[3].split(separator: ",").map(String.init)) : nil
            if projects?.isEmpty == true { throw RegistryError.invalid("\(source):\(n + 1): the project list is empty") }
            let hash = parts[2].hasPrefix("sha256:") ? String(parts[2].dropFirst(7)).lowercased() : TokenTable.hash(parts[2])
            guard hash.count == 64 else { throw RegistryError.invalid("\(source):\(n + 1): a sha256: secret needs 64 hex digits") }
            byHash[hash] = Identity(name: parts[0], role: role, projects: projects, nodes: nodes)
        }
    }

    package static func load(path: String) throws -> TokenTable {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RegistryError.invalid("cannot read the tokens file \(path)")
        }
        return try TokenTable(text: text, source: path)
    }

    static func hash(_ secret: String) -> String { Event.hash(bytes: Array(secret.utf8)) }

    /// The identity of an `Authorization: Bearer ...` header, if the token is known.
    package func identify(authorization: String?) -> Identity? {
        guard let header = authorization, header.hasPrefix("Bearer ") else { return nil }
        return byHash[TokenTable.hash(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))]
    }

    package var isEmpty: Bool { byHash.isEmpty }
}
