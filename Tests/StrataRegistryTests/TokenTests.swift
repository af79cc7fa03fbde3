import StrataCore
import StrataRegistry
import XCTest

/// Tokens: three roles; only SHA-256 hashes of the secrets are kept, and a
/// tokens file may hold nothing but the hash.
final class TokenTests: XCTestCase {
    func testSecretsAreKeptOnlyAsHashes() throws {
        let hash = Event.hash(bytes: Array("s3cret-bo".utf8))
        let table = try TokenTable(text: "# team\nana admin s3cret-ana\nbo push sha256:\(hash)\nviewer read s3cret-view\n", source: "tokens.txt")
        XCTAssertEqual(table.identify(authorization: "Bearer s3cret-ana").map { "\($0.name) \($0.role)" }, "ana admin")
        XCTAssertEqual(table.identify(authorization: "Bearer s3cret-bo").map { "\($0.name) \($0.role)" }, "bo push", "the file held only the hash")
        XCTAssertEqual(table.identify(authorization: "Bearer s3cret-view")?.role, .read)
        XCTAssertNil(table.identify(authorization: "Bearer wrong"))
        XCTAssertNil(table.identify(authorization: nil))
        XCTAssertNil(table.identify(authorization: "Basic s3cret-ana"))
        // What the table holds: no secret in any form a dump would show.
        let dump = String(reflecting: table) + String(describing: Mirror(reflecting: table).children.map { "\($0.value)" })
        XCTAssertFalse(dump.contains("s3cret"), dump)
        XCTAssertTrue(dump.contains(hash), "kept as its hash")
    }

    func testABadLineIsRefusedWithItsLineNumber() {
        XCTAssertThrowsError(try TokenTable(text: "ana push s3cret\nbo owner x\n", source: "tokens.txt")) {
            XCTAssertEqual("\($0)", "tokens.txt:2: expected `NAME ROLE SECRET [PROJECT,...] [nodes=NODE,...]` with ROLE read, push or admin")
        }
        XCTAssertThrowsError(try TokenTable(text: "# team\n\nbo push sha256:abc\n", source: "t.txt")) {
            XCTAssertEqual("\($0)", "t.txt:3: a sha256: secret needs 64 hex digits")
        }
    }
}
