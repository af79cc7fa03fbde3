import Crypto

/// One immutable schema change (= revision), addressed by the SHA-256 of its
/// canonical encoding.
package struct Event: Hashable, Sendable {
    package let id: String
    package let parents: [String]
    package let author: String
    /// Milliseconds since the Unix epoch, UTC.
    package let timestamp: Int64
    package let message: String
    package let ops: [Op]
    /// The data its ops destroy must never be kept in the databases (a
    /// column dropped to delete personal data). Encoded only when true, so
    /// events without it keep their ids.
    package let purgeDropped: Bool
    /// Lint finding codes its author accepted (`revision --accept CODE`),
    /// sorted; encoded only when there are some.
    package let accepted: [String]
    /// Who signed it, beside the event: not part of the body, so not of the id.
    package var signature: EventSignature?

    /// The encoding version written into every event.
    package static let formatVersion: Int64 = 1

    /// Creates an event and computes its id.
    package init(parents: [String], author: String, timestamp: Int64, message: String, ops: [Op], purgeDropped: Bool = false,
                accepted: [String] = []) {
        self.parents = parents
        self.author = author
        self.timestamp = timestamp
        self.message = message
        self.ops = ops
        self.purgeDropped = purgeDropped
        self.accepted = Array(Set(accepted)).sorted()
        self.id = Event.hash(Event.body(parents: parents, author: author, timestamp: timestamp, message: message, ops: ops,
                                        purgeDropped: purgeDropped, accepted: self.accepted))
    }

    private init(id: String, parents: [String], author: String, timestamp: Int64, message: String, ops: [Op], purgeDropped: Bool,
                 accepted: [String]) {
        self.id = id
        self.parents = parents
        self.author = author
        self.timestamp = timestamp
        self.message = message
        self.ops = ops
        self.purgeDropped = purgeDropped
        self.accepted = accepted
    }

    /// The same change on other parents (a rebase): every field but the
    /// parents kept; the signature is not (it signed the old bytes).
    package func moved(to parents: [String]) -> Event {
        Event(parents: parents, author: author, timestamp: timestamp, message: message, ops: ops, purgeDropped: purgeDropped, accepted: accepted)
    }

    // MARK: - Canonical encoding

    /// The hashed document: every field but the id.
    package var body: JSON {
        Event.body(parents: parents, author: author, timestamp: timestamp, message: message, ops: ops, purgeDropped: purgeDropped, accepted: accepted)
    }

    /// The bytes the id is the SHA-256 of.
    package var canonicalBytes: [UInt8] { body.canonicalBytes }

    static func body(parents: [String], author: String, timestamp: Int64, message: String, ops: [Op], purgeDropped: Bool, accepted: [String]) -> JSON {
        var fields: [String: JSON] = [
            "author": .string(author),
            "format": .int(formatVersion),
            "message": .string(message),
            "ops": .array(ops.map(\.json)),
            "parents": .array(parents.map(JSON.string)),
            "timestamp": .string(Timestamp.iso8601(timestamp)),
        ]
        if purgeDropped { fields["purgeDropped"] = .bool(true) }
        if !accepted.isEmpty { fields["accept"] = .array(accepted.map(JSON.string)) }
        return .object(fields)
    }

    package static func hash(_ body: JSON) -> String { hex(SHA256.hash(data: body.canonicalBytes)) }

    package static func hash(bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(64)
        for byte in digest {
            s.append(digits[Int(byte >> 4)])
            s.append(digits[Int(byte & 0xF)])
        }
        return s
    }

    /// Whether `text` has an event id's form: 64 lowercase hex digits.
    package static func isID(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// Decodes a stored or received body; `id` is recomputed, never trusted.
    package init(body: JSON) throws {
        try self.init(body: body, id: nil)
    }

    /// `id`, when given, is the body's hash already computed (or stored).
    init(body: JSON, id knownID: String?) throws {
        guard case .object(let fields) = body else { throw EventDecodingError("an event must be a JSON object") }
        let allowed: Set<String> = ["author", "format", "message", "ops", "parents", "timestamp", "purgeDropped", "accept"]
        if let extra = fields.keys.first(where: { !allowed.contains($0) }) {
            throw EventDecodingError("unknown field \"\(extra)\"")
        }
        guard fields["format"]?.intValue == Event.formatVersion else {
            throw EventDecodingError("unsupported format (expected \(Event.formatVersion))")
        }
        guard let author = fields["author"]?.stringValue else { throw EventDecodingError("missing author") }
        guard let message = fields["message"]?.stringValue else { throw EventDecodingError("missing message") }
        guard let time = fields["timestamp"]?.stringValue, let ms = Timestamp.parse(time) else {
            throw EventDecodingError("missing or malformed timestamp (expected YYYY-MM-DDTHH:MM:SS.mmmZ)")
        }
        guard let parentValues = fields["parents"]?.arrayValue else { throw EventDecodingError("missing parents") }
        let parents = try parentValues.map { value -> String in
            guard let p = value.stringValue, Event.isID(p) else {
                throw EventDecodingError("a parent is not a 64-digit lowercase hex id")
            }
            return p
        }
        guard parents.count <= 2, Set(parents).count == parents.count else {
            throw EventDecodingError("an event has at most two distinct parents")
        }
        guard let opValues = fields["ops"]?.arrayValue else { throw EventDecodingError("missing ops") }
        let ops = try opValues.enumerated().map { n, value in
            do { return try Op(json: value) } catch let e as EventDecodingError {
                throw EventDecodingError("op \(n): \(e.message)")
            }
        }
        guard fields["purgeDropped"] == nil || fields["purgeDropped"]?.boolValue == true else {
            throw EventDecodingError("purgeDropped is true or absent")
        }
        var accepted: [String] = []
        if let list = fields["accept"] {
            guard let items = list.arrayValue?.compactMap(\.stringValue), items.count == list.arrayValue?.count, !items.isEmpty else {
                throw EventDecodingError("accept is a non-empty array of finding codes")
            }
            accepted = items
        }
        self.init(id: knownID ?? Event.hash(body), parents: parents, author: author, timestamp: ms, message: message, ops: ops,
                  purgeDropped: fields["purgeDropped"] != nil, accepted: accepted)
        // One event, one encoding: a body whose parts are not in their
        // normal order (say, unsorted foreign keys) would hash differently
        // from the same event written by strata.
        guard self.body == body else { throw EventDecodingError("the event is not in normal form (re-encoding it changes it)") }
    }

    /// Decodes canonical bytes and checks they are canonical (so that the id
    /// of what is stored is the id of what was signed off).
    package init(canonical bytes: [UInt8]) throws {
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { throw EventDecodingError("\(error)") }
        let encoded = json.canonicalBytes
        guard encoded == bytes else { throw EventDecodingError("the bytes are not in canonical form") }
        try self.init(body: json, id: Event.hash(bytes: encoded))
    }

    /// An event read back from a store that checked it when it was written
    /// (the local log): the stored id is taken as it is, and the bytes are
    /// not encoded again to prove it. Re-encoding and hashing a large event
    /// cost more than parsing it; `strata verify` does both for every row.
    package init(stored bytes: [UInt8], id: String) throws {
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { throw EventDecodingError("\(error)") }
        try self.init(body: json, id: id)
    }

    /// The document sent over the wire and printed by `--json`: the body
    /// plus its id, and `signature` and `signed_by` when it is signed.
    package var jsonWithID: JSON {
        guard case .object(var fields) = body else { return body }
        fields["id"] = .string(id)
        if let signature {
            fields["signature"] = .string(signature.text)
            fields["signed_by"] = .string(signature.signedBy)
        }
        return .object(fields)
    }

    /// Reads the wire form: the body, the id it claims (which must be its
    /// hash) and the signature beside it, if any (checked by whoever needs
    /// to trust it, not here).
    package init(wire fields: [String: JSON]) throws {
        var fields = fields
        guard let claimed = fields.removeValue(forKey: "id")?.stringValue else { throw EventDecodingError("an event lacks its id") }
        let signature = fields.removeValue(forKey: "signature"), signedBy = fields.removeValue(forKey: "signed_by")
        try self.init(body: .object(fields))
        guard id == claimed else {
            throw EventDecodingError("its id \(claimed.prefix(12)) is not the SHA-256 of its contents (\(id.prefix(12)))")
        }
        switch (signature?.stringValue, signedBy?.stringValue) {
        case (nil, nil) where signature == nil && signedBy == nil: break
        case let (s?, by?):
            do { self.signature = try EventSignature(signedBy: by, signature: s) } catch { throw EventDecodingError("\(error)") }
        default: throw EventDecodingError("signature and signed_by go together, as strings")
        }
    }
}

package struct EventDecodingError: Error, CustomStringConvertible, Sendable {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// UTC timestamps with millisecond precision, without Foundation's formatters
/// (their output differs between platforms; this one is part of the hash).
package enum Timestamp {
    package static func iso8601(_ ms: Int64) -> String {
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millis = ms - seconds * 1000
        var days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secOfDay = seconds - days * 86400
        // Civil-from-days (Howard Hinnant's algorithm).
        days += 719468
        let era = (days >= 0 ? days : days - 146096) / 146097
        let doe = days - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        var year = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        func pad(_ v: Int64, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secOfDay / 3600, 2)):\(pad(secOfDay / 60 % 60, 2)):\(pad(secOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    package static func parse(_ text: String) -> Int64? {
        let chars = Array(text.utf8)
        guard chars.count == 24, chars[4] == 45, chars[7] == 45, chars[10] == 84, chars[13] == 58, chars[16] == 58,
              chars[19] == 46, chars[23] == 90 else { return nil }
        func num(_ a: Int, _ b: Int) -> Int64? {
            var v: Int64 = 0
            for c in chars[a..<b] {
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16),
              let s = num(17, 19), let ms = num(20, 23), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 60
        else { return nil }
        // Days-from-civil.
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        let result = ((days * 86400 + h * 3600 + mi * 60 + s) * 1000) + ms
        guard iso8601(result) == text else { return nil }
        return result
    }
}
