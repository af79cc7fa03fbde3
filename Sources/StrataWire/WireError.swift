import StrataCore

/// A body that does not have the shape docs/openapi.yaml gives it.
package struct WireError: Error, CustomStringConvertible, Sendable, Equatable {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

extension WireError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    package var errorCode: String { "request.invalid" }
}

/// Reads the fields of one JSON object, with errors that name the body and field.
struct Fields {
    let members: [String: JSON]
    let what: String

    init(_ json: JSON, _ what: String) throws {
        guard case .object(let members) = json else { throw WireError("\(what): expected a JSON object") }
        self.members = members
        self.what = what
    }

    func string(_ key: String) throws -> String {
        guard let s = members[key]?.stringValue else { throw WireError("\(what): \"\(key)\" must be a string") }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        switch members[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw WireError("\(what): \"\(key)\" must be a string or null")
        }
    }

    func int(_ key: String) throws -> Int64 {
        guard let i = members[key]?.intValue else { throw WireError("\(what): \"\(key)\" must be an integer") }
        return i
    }

    func optionalInt(_ key: String) throws -> Int64? {
        switch members[key] {
        case nil, .null?: return nil
        case .int(let i)?: return i
        default: throw WireError("\(what): \"\(key)\" must be an integer or null")
        }
    }

    func bool(_ key: String) throws -> Bool {
        guard let b = members[key]?.boolValue else { throw WireError("\(what): \"\(key)\" must be true or false") }
        return b
    }

    func optionalBool(_ key: String) throws -> Bool? {
        switch members[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw WireError("\(what): \"\(key)\" must be true, false or null")
        }
    }

    func array(_ key: String) throws -> [JSON] {
        guard let a = members[key]?.arrayValue else { throw WireError("\(what): \"\(key)\" must be an array") }
        return a
    }

    func value(_ key: String) throws -> JSON {
        guard let v = members[key] else { throw WireError("\(what): missing \"\(key)\"") }
        return v
    }
}
