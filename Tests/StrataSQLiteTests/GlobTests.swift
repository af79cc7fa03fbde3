import Foundation
import StrataStore
import XCTest

/// The patterns `databases` and `--db` accept, matched as a shell would.
final class GlobTests: XCTestCase {
    func testPatternsMatchFilesInAStableOrder() throws {
        let dir = try TempDir()
        for file in ["a/x.db", "a/y.db", "a/.hidden.db", "a/b/z.sqlite", "a/b/c/w.sqlite", "a/.git/q.sqlite", "d/e.sqlite", "a/notes.txt"] {
            try FileManager.default.createDirectory(atPath: (dir.path(file) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            XCTAssertTrue(FileManager.default.createFile(atPath: dir.path(file), contents: Data()))
        }
        let root = dir.url.path
        func expand(_ pattern: String) -> [String] { Glob.expand("\(root)/\(pattern)").map { String($0.dropFirst(root.count + 1)) } }
        XCTAssertEqual(expand("a/*.db"), ["a/x.db", "a/y.db"], "a leading dot is matched only by a pattern that has one")
        XCTAssertEqual(expand("a/.*.db"), ["a/.hidden.db"])
        XCTAssertEqual(expand("a/?.db"), ["a/x.db", "a/y.db"])
        XCTAssertEqual(expand("a/[x].db"), ["a/x.db"])
        XCTAssertEqual(expand("**/*.sqlite"), ["a/b/c/w.sqlite", "a/b/z.sqlite", "d/e.sqlite"], "any depth, hidden directories skipped")
        XCTAssertEqual(expand("a/**/*.sqlite"), ["a/b/c/w.sqlite", "a/b/z.sqlite"])
        XCTAssertEqual(expand("*/b/*.sqlite"), ["a/b/z.sqlite"])
        XCTAssertEqual(expand("a/*"), ["a/notes.txt", "a/x.db", "a/y.db"], "files only, not directories")
        XCTAssertEqual(expand("nope/*.db"), [])
        XCTAssertTrue(Glob.isPattern("t/*.db"))
        XCTAssertFalse(Glob.isPattern("app.db"))
    }
}
