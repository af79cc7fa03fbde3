import Foundation
import StrataCore

/// Who a bearer token says the caller is.
public struct Identity: Sendable, Equatable {
    public enum Role: Int, Sendable, Comparable, CaseIterable {
        case read = 0, push = 1, admin = 2
        public static func < (a: Role, b: Role) -> Bool { a.rawValue < b.rawValue }
        init?(name: String) {
            switch name {
            case "read": self = .read
            case "push": self = .push
            case "admin": self = .admin
            default: return nil
            }
        }
    }

    public let name: String
    public let role: Role
    /// The projects it may act on; nil for all.
    public let projects: Set<String>?

    public init(name: String, role: Role, projects: Set<String>? = nil) {
        self.name = name
        self.role = role
        self.projects = projects
    }

    public func mayAct(on project: String) -> Bool { projects.map { $0.contains(project) } ?? true }
}

/// The tokens file: one `NAME ROLE SECRET [PROJECT,...]` per line (`#`
/// comments); without a project list the token acts on every project. Only
/// SHA-256 hashes of the secrets are kept in memory; a SECRET written as
/// `sha256:HEX` lets the file itself hold no secret at all.
public struct TokenTable: Sendable {
    private var byHash: [String: Identity] = [:]

    public init(text: String, source: String) throws {
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard parts.count == 3 || parts.count == 4, let role = Identity.Role(name: parts[1]) else {
                throw RegistryError.invalid("\(source):\(n + 1): expected `NAME ROLE SECRET [PROJECT,...]` with ROLE read, push or admin")
            }
            let projects = parts.count == 4 ? Set(parts[3].split(separator: ",").map(String.init)) : nil
            if projects?.isEmpty == true { throw RegistryError.invalid("\(source):\(n + 1): the project list is empty") }
            let hash = parts[2].hasPrefix("sha256:") ? String(parts[2].dropFirst(7)).lowercased() : TokenTable.hash(parts[2])
            guard hash.count == 64 else { throw RegistryError.invalid("\(source):\(n + 1): a sha256: secret needs 64 hex digits") }
            byHash[hash] = Identity(name: parts[0], role: role, projects: projects)
        }
    }

    public static func load(path: String) throws -> TokenTable {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RegistryError.invalid("cannot read the tokens file \(path)")
        }
        return try TokenTable(text: text, source: path)
    }

    static func hash(_ secret: String) -> String { Event.hash(bytes: Array(secret.utf8)) }

    /// The identity of an `Authorization: Bearer ...` header, if the token is known.
    public func identify(authorization: String?) -> Identity? {
        guard let header = authorization, header.hasPrefix("Bearer ") else { return nil }
        return byHash[TokenTable.hash(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))]
    }

    public var isEmpty: Bool { byHash.isEmpty }
}
