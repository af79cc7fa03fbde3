import Foundation
import StrataCore

/// A schema history an app ships: the events of a `strata bundle` file,
/// every id recomputed from its contents when the file is opened.
///
/// ```swift
/// let url = Bundle.main.url(forResource: "schema", withExtension: "strata")!
/// let history = try SchemaHistory(contentsOf: url)
/// ```
///
/// A history is read-only and can be shared between threads; open it once.
public final class SchemaHistory: @unchecked Sendable {
    package let store: any HistoryStore
    /// The events in the order they were recorded (parents first).
    public let events: [EventSummary]

    /// The newest revision: what ``SchemaMigrator/Target/head`` means.
    /// Nil for an empty history.
    public var head: String? { try? store.head() }

    /// Reads a `strata bundle` file.
    ///
    /// - Parameters:
    ///   - url: The file (`strata bundle --out FILE`).
    ///   - trustedKeys: Public keys (`ed25519:BASE64`, as `strata keys generate`
    ///     prints them). When given, every event must carry a valid signature
    ///     by one of them. When nil, signatures are not checked.
    /// - Throws: ``BundleError`` when the file cannot be read, is not a
    ///   bundle, or holds an event whose id is not the hash of its contents,
    ///   a parent it lacks, or (with `trustedKeys`) an untrusted event.
    public convenience init(contentsOf url: URL, trustedKeys: [String]? = nil) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw BundleError.unreadable(url.path, "\(error.localizedDescription)") }
        try self.init(bundle: data, trustedKeys: trustedKeys)
    }

    /// Reads a bundle's bytes (a resource already loaded, say).
    public convenience init(bundle data: Data, trustedKeys: [String]? = nil) throws {
        var keys: Set<String>?
        if let trustedKeys {
            for key in trustedKeys where (try? EventSignature.publicKey(key)) == nil { throw BundleError.badKey(key) }
            keys = Set(trustedKeys)
        }
        let (graph, headState) = try SchemaBundle.decode(Array(data), trustedKeys: keys)
        self.init(store: BundleStore(graph, headState: headState))
    }

    /// A history over any store (the CLI's local log).
    package init(store: any HistoryStore, events: [EventSummary] = []) {
        self.store = store
        self.events = events
    }

    convenience init(store: BundleStore) {
        let events = store.graph.order.compactMap { store.graph.events[$0].map(EventSummary.init) }
        self.init(store: store as any HistoryStore, events: events)
    }
}

/// One event of a history, as an app sees it.
public struct EventSummary: Hashable, Sendable {
    /// The event's id: the SHA-256 of its canonical contents, 64 hex digits.
    public let id: String
    public let parents: [String]
    public let message: String
    public let author: String
    /// When it was recorded, in milliseconds since 1970 (UTC).
    public let timestamp: Int64
    /// The public key that signed it (`ed25519:BASE64`), if it is signed.
    public let signedBy: String?

    package init(_ e: Event) {
        id = e.id
        parents = e.parents
        message = e.message
        author = e.author
        timestamp = e.timestamp
        signedBy = e.signature?.signedBy
    }

    /// The first 12 digits of the id, as strata prints it.
    public var shortID: String { String(id.prefix(12)) }
}

/// A bundle that cannot be opened. Nothing is migrated from it.
public enum BundleError: Error, CustomStringConvertible, Sendable, Equatable {
    case unreadable(String, String)
    /// Not a `strata bundle` file, or a version this library does not read.
    case notABundle(String)
    /// An event whose id, parents or contents do not hold.
    case invalidEvent(index: Int, String)
    /// An event not signed by a trusted key.
    case untrusted(id: String, String)
    /// A trusted key that is not `ed25519:` and the base64 of 32 bytes.
    case badKey(String)

    public var description: String {
        switch self {
        case let .unreadable(path, why): return "cannot read the bundle \(path): \(why)"
        case let .notABundle(why): return "not a strata bundle: \(why)"
        case let .invalidEvent(index, why): return "the bundle's event \(index + 1) is invalid: \(why)"
        case let .untrusted(id, why): return "the bundle's event \(id.prefix(12)) \(why)"
        case let .badKey(key): return "\(key.prefix(60)) is not a public key: expected ed25519: and the base64 of 32 bytes"
        }
    }
}

extension BundleError: StrataError {
    package var exitStatus: ExitStatus { .usage }
    /// A stable, machine-readable code (`bundle.invalid`, say).
    public var errorCode: String {
        switch self {
        case .unreadable: return "bundle.unreadable"
        case .notABundle: return "bundle.invalid"
        case .invalidEvent: return "bundle.event_invalid"
        case .untrusted: return "bundle.untrusted"
        case .badKey: return "bundle.bad_key"
        }
    }
}

/// The file format of `strata bundle`: one canonical JSON document,
/// `{"events":[...],"format":"strata-bundle","head":ID,"version":1}`, each
/// event in its wire form (body, id, and `signature`/`signed_by` when
/// signed), parents before children.
package enum SchemaBundle {
    package static let format = "strata-bundle"
    package static let version: Int64 = 1

    package static func encode(_ events: [Event], head: String?) -> [UInt8] {
        JSON.object([
            "format": .string(format), "version": .int(version), "head": head.map(JSON.string) ?? .null,
            "events": .array(events.map(\.jsonWithID)),
        ]).canonicalBytes
    }

    static func decode(_ bytes: [UInt8], trustedKeys: Set<String>?) throws -> (EventGraph, headState: Schema?) {
        let doc: JSON
        do { doc = try JSON.parse(bytes) } catch { throw BundleError.notABundle("\(error)") }
        guard doc["format"]?.stringValue == format else { throw BundleError.notABundle("it has no \"format\": \"\(format)\"") }
        guard doc["version"]?.intValue == version else {
            throw BundleError.notABundle("its version \(doc["version"].map { $0.canonicalString } ?? "(none)") is not \(version); use the library of the strata that wrote it")
        }
        guard let list = doc["events"]?.arrayValue else { throw BundleError.notABundle("it has no \"events\" list") }
        var graph = EventGraph()
        for (n, item) in list.enumerated() {
            guard let fields = item.objectValue else { throw BundleError.invalidEvent(index: n, "not an object") }
            let e: Event
            do { e = try Event(wire: fields) } catch { throw BundleError.invalidEvent(index: n, "\(error)") }
            guard graph.events[e.id] == nil else { throw BundleError.invalidEvent(index: n, "\(e.id.prefix(12)) appears twice") }
            do { try graph.add(e) } catch { throw BundleError.invalidEvent(index: n, "\(error) (parents come before their children)") }
            if let trustedKeys {
                guard let signature = e.signature else { throw BundleError.untrusted(id: e.id, "is not signed") }
                guard signature.isValid(for: e) else { throw BundleError.untrusted(id: e.id, "has a signature that does not verify") }
                guard trustedKeys.contains(signature.signedBy) else {
                    throw BundleError.untrusted(id: e.id, "is signed by \(signature.signedBy), which is not a trusted key")
                }
            }
        }
        let head = doc["head"]?.stringValue
        guard graph.heads.count <= 1, graph.heads.first == head else {
            throw BundleError.notABundle("its head \(head.map { String($0.prefix(12)) } ?? "null") is not the one head of its events")
        }
        // Every event must apply to the state before it, as the log checked when it was recorded.
        if let head {
            var state = Schema.empty
            for e in try graph.range(from: nil, to: head) {
                do { try state.apply(e.ops) } catch {
                    throw BundleError.invalidEvent(index: graph.order.firstIndex(of: e.id) ?? 0, "its ops do not apply to the state before it: \(error)")
                }
            }
            return (graph, state)
        }
        return (graph, nil)
    }
}
