import StrataCore
import XCTest

/// Golden tests of the canonical encoding (docs/FORMATS.md): the exact bytes
/// and the resulting id, so another implementation can check itself.
final class EncodingTests: XCTestCase {
    static let event = Event(
        parents: [], author: "ana@example.com", timestamp: 1_764_000_000_123, message: "create users",
        ops: [.createTable(Table(name: "users", columns: [Column(name: "id", type: "INTEGER")],
                                 constraints: TableConstraints(primaryKey: ["id"])), indexes: [], triggers: [])])

    func testCanonicalBytesAreExact() {
        XCTAssertEqual(EncodingTests.event.body.canonicalString, #"""
        {"author":"ana@example.com","format":1,"message":"create users","ops":[{"indexes":[],"op":"createTable","table":{"columns":[{"collation":null,"default":null,"name":"id","notNull":false,"type":"INTEGER"}],"constraints":{"autoincrement":false,"checks":[],"foreignKeys":[],"primaryKey":["id"],"strict":false,"uniques":[],"withoutRowid":false},"name":"users"},"triggers":[]}],"parents":[],"timestamp":"2025-11-24T16:00:00.123Z"}
        """#)
    }

    func testIdIsTheSHA256OfTheCanonicalBytes() {
        // Computed independently: printf '%s' "<bytes above>" | sha256sum
        XCTAssertEqual(EncodingTests.event.id, Event.hash(bytes: EncodingTests.event.canonicalBytes))
        XCTAssertEqual(EncodingTests.event.id, "4313d42b0fdcb07542f2902f60bd6360e699c237de0fa4621ed64b4776a008c0")
    }

    func testDecodingRecomputesTheIdAndRefusesNonCanonicalBytes() throws {
        let bytes = EncodingTests.event.canonicalBytes
        XCTAssertEqual(try Event(canonical: bytes), EncodingTests.event)
        let spaced = Array(EncodingTests.event.body.prettyString.utf8)
        XCTAssertThrowsError(try Event(canonical: spaced)) {
            XCTAssertEqual("\($0)", "the bytes are not in canonical form")
        }
        var tampered = bytes
        tampered[tampered.count - 4] = UInt8(ascii: "4") // .123Z -> .143Z... still canonical, different id
        XCTAssertNotEqual(try Event(canonical: tampered).id, EncodingTests.event.id)
    }

    /// `purgeDropped` is written only when true (events without it keep
    /// their ids); `false` would be a second spelling and is refused.
    func testPurgeDroppedIsWrittenOnlyWhenTrue() throws {
        let e = EncodingTests.event
        let marked = Event(parents: e.parents, author: e.author, timestamp: e.timestamp, message: e.message, ops: e.ops, purgeDropped: true)
        XCTAssertEqual(e.moved(to: []).id, e.id)
        XCTAssertEqual(marked.body.canonicalString, e.body.canonicalString.replacingOccurrences(
            of: #""parents":[],"#, with: #""parents":[],"purgeDropped":true,"#))
        XCTAssertNotEqual(marked.id, e.id)
        XCTAssertEqual(try Event(canonical: marked.canonicalBytes), marked)
        XCTAssertEqual(marked.moved(to: []).purgeDropped, true, "a rebase keeps the mark")
        let spelledFalse = Array(e.body.canonicalString.replacingOccurrences(of: #""parents":[],"#, with: #""parents":[],"purgeDropped":false,"#).utf8)
        XCTAssertThrowsError(try Event(canonical: spelledFalse)) { XCTAssertEqual("\($0)", "purgeDropped is true or absent") }
    }

    /// `accept` (lint codes accepted with the event) is written only when
    /// there are some, sorted and unique; an empty list is a second spelling.
    func testAcceptedCodesAreWrittenOnlyWhenThereAreSome() throws {
        let e = EncodingTests.event
        let accepted = Event(parents: e.parents, author: e.author, timestamp: e.timestamp, message: e.message, ops: e.ops, accepted: ["DS102", "BC104", "DS102"])
        XCTAssertEqual(accepted.accepted, ["BC104", "DS102"])
        XCTAssertTrue(accepted.body.canonicalString.hasPrefix(#"{"accept":["BC104","DS102"],"author":"#))
        XCTAssertEqual(try Event(canonical: accepted.canonicalBytes), accepted)
        let empty = Array(#"{"accept":[],"#.utf8) + e.canonicalBytes.dropFirst()
        XCTAssertThrowsError(try Event(canonical: empty)) { XCTAssertEqual("\($0)", "accept is a non-empty array of finding codes") }
    }

    /// `deferred` is written only when true, so ids of events that predate it
    /// stay what they were; a `false` would be a second spelling and is refused.
    func testADeferredForeignKeyIsWrittenOnlyWhenTrue() throws {
        func op(deferred: Bool) -> Op {
            let fk = ForeignKey(columns: ["uid"], referencedTable: "users", referencedColumns: ["id"], deferred: deferred)
            return .createTable(Table(name: "posts", columns: [Column(name: "uid", type: "INTEGER")],
                                      constraints: TableConstraints(foreignKeys: [fk])), indexes: [], triggers: [])
        }
        let immediate = op(deferred: false).json.canonicalString
        let deferred = op(deferred: true).json.canonicalString
        XCTAssertTrue(immediate.contains(#""foreignKeys":[{"columns":["uid"],"onDelete":"NO ACTION","#), immediate)
        XCTAssertTrue(deferred.contains(#""foreignKeys":[{"columns":["uid"],"deferred":true,"onDelete":"NO ACTION","#), deferred)
        XCTAssertEqual(try Op(json: try JSON.parse(deferred)), op(deferred: true))
        let spelledFalse = deferred.replacingOccurrences(of: #""deferred":true"#, with: #""deferred":false"#)
        XCTAssertThrowsError(try Op(json: try JSON.parse(spelledFalse))) {
            XCTAssertTrue("\($0)".contains("is written only when true"), "\($0)")
        }
    }

    /// An unnamed CHECK is its bare expression (as before names were kept);
    /// a named one is an object.
    func testCheckNamesAreEncodedOnlyWhenGiven() throws {
        let op = Op.createTable(Table(name: "t", columns: [Column(name: "a", type: "INTEGER")],
                                      constraints: TableConstraints(checks: ["a > 0", Check("a < 9", name: "ck_a")])),
                                indexes: [], triggers: [])
        let text = op.json.canonicalString
        XCTAssertTrue(text.contains(#""checks":["a > 0",{"expression":"a < 9","name":"ck_a"}]"#), text)
        XCTAssertEqual(try Op(json: try JSON.parse(text)), op)
        XCTAssertThrowsError(try Op(json: try JSON.parse(text.replacingOccurrences(of: #""name":"ck_a""#, with: #""name":null"#))))
    }

    /// A generated column carries `generated`; other columns encode as before.
    func testGeneratedColumnsAreEncodedOnlyWhenPresent() throws {
        let op = Op.addColumn(table: "t", column: Column(name: "g", type: "INTEGER", generated: Generated("id * 2", stored: true)), position: 1)
        let text = op.json.canonicalString
        XCTAssertTrue(text.contains(#""generated":{"expression":"id * 2","stored":true},"name":"g""#), text)
        XCTAssertEqual(try Op(json: try JSON.parse(text)), op)
        XCTAssertFalse(Op.addColumn(table: "t", column: Column(name: "c"), position: 1).json.canonicalString.contains("generated"))
    }

    /// A data step: both SQL texts always written (null when absent); one
    /// of them must be there.
    func testAnExecStepIsEncodedWithBothDirections() throws {
        let e = Event(parents: [], author: "ana@example.com", timestamp: 0, message: "backfill",
                      ops: [.exec(forward: "UPDATE users SET name = 'x' WHERE name IS NULL", reverse: nil)])
        XCTAssertEqual(e.body.canonicalString, #"""
        {"author":"ana@example.com","format":1,"message":"backfill","ops":[{"forward":"UPDATE users SET name = 'x' WHERE name IS NULL","op":"exec","reverse":null}],"parents":[],"timestamp":"1970-01-01T00:00:00.000Z"}
        """#)
        // printf "%s" "<bytes above>" | sha256sum
        XCTAssertEqual(e.id, "7958399d3f1311775090c606deb2ecdee995b16cf50b6e0e4c4e28dbfeea96c0")
        XCTAssertThrowsError(try Op(json: try JSON.parse(#"{"forward":null,"op":"exec","reverse":null}"#))) {
            XCTAssertEqual("\($0)", "op: an exec step needs forward or reverse SQL")
        }
    }

    func testStringEscapes() {
        XCTAssertEqual(JSON.string("a\"b\\c\n\u{1}é/").canonicalString, #""a\"b\\c\u000a\u0001é/""#)
        XCTAssertEqual(try JSON.parse(#""a\"b\\c\u000a\u0001é\/""#), .string("a\"b\\c\n\u{1}é/"))
    }

    func testKeysSortByBytes() {
        XCTAssertEqual(JSON.object(["b": .int(1), "a": .null, "B": .bool(true)]).canonicalString, #"{"B":true,"a":null,"b":1}"#)
    }

    func testTimestampsRoundTrip() {
        for ms: Int64 in [0, 1, 999, 1_000, 951_782_400_000, 1_764_000_000_123, 4_102_444_799_999] {
            XCTAssertEqual(Timestamp.parse(Timestamp.iso8601(ms)), ms)
        }
        XCTAssertEqual(Timestamp.iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z")
        XCTAssertNil(Timestamp.parse("2000-02-30T00:00:00.000Z"))
        XCTAssertNil(Timestamp.parse("2000-02-28T00:00:00Z"))
    }

    /// A fixed key (seed 0x01..0x20) signing the golden event gives exactly
    /// this Ed25519 signature (RFC 8032 signatures are deterministic), over
    /// the canonical bytes: the id does not change, and any other bytes fail.
    func testASignatureOfTheGoldenEventIsExact() throws {
        let key = try SigningKey(seed: Array(1...32))
        let signed = try key.sign(EncodingTests.event)
        XCTAssertEqual(signed.id, EncodingTests.event.id, "the signature is outside the id")
        XCTAssertEqual(key.publicKeyText, Self.goldenPublicKey)
        XCTAssertEqual(signed.signature?.text, Self.goldenSignature)
        XCTAssertTrue(try XCTUnwrap(signed.signature).isValid(for: EncodingTests.event))
        let other = Event(parents: [], author: "mallory@example.com", timestamp: EncodingTests.event.timestamp,
                          message: EncodingTests.event.message, ops: EncodingTests.event.ops)
        XCTAssertFalse(try XCTUnwrap(signed.signature).isValid(for: other))
        // On the wire the signature rides beside the body and is read back.
        guard case .object(let fields) = signed.jsonWithID else { return XCTFail("an object") }
        XCTAssertEqual(fields["signed_by"], .string(Self.goldenPublicKey))
        XCTAssertEqual(try Event(wire: fields), signed)
        // strata's key file round-trips.
        XCTAssertEqual(try SigningKey(fileText: key.fileText, source: "k").publicKeyText, key.publicKeyText)
    }

    static let goldenPublicKey = "ed25519:ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ="
    static let goldenSignature = "/NHvT1c7U+l57zajPlLdi/wHXFkfH3hUtqu9b6/14YsNOEyXJoUWSNVTEXLFdvvstoNW4GuMr2/RgzGL5MojDg=="
}
