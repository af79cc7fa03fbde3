import XCTest
import StrataCore

/// What a trusted-keys file lets a node run.
final class TrustTests: XCTestCase {
    func testOnlyEventsSignedByATrustedKeyPass() throws {
        let team = SigningKey.generate(), stranger = SigningKey.generate()
        let keys = try TrustedKeys(text: "# team\nana \(team.publicKeyText)\n", source: "team.keys")
        let e = Event(parents: [], author: "a", timestamp: 1, message: "m", ops: [.exec(forward: "DELETE FROM users", reverse: nil)])
        XCTAssertNil(keys.refusal(of: try team.sign(e), requireSignature: true))
        XCTAssertEqual(keys.refusal(of: e, requireSignature: true)?.code, "signature.missing")
        XCTAssertNil(keys.refusal(of: e, requireSignature: false))
        XCTAssertEqual(keys.refusal(of: try stranger.sign(e), requireSignature: false)?.code, "signature.untrusted")
        // The team's signature moved onto another event: a forgery.
        let other = Event(parents: [], author: "a", timestamp: 2, message: "m", ops: e.ops)
        var forged = other
        forged.signature = try team.sign(e).signature
        XCTAssertEqual(keys.refusal(of: forged, requireSignature: false)?.code, "signature.invalid")
        XCTAssertThrowsError(try TrustedKeys(text: "ana not-a-key\n", source: "team.keys")) {
            XCTAssertEqual("\($0)", "team.keys:1: expected `NAME ed25519:BASE64`")
        }
    }
}
