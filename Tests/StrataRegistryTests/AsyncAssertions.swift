import XCTest

// XCTest's assertions take synchronous autoclosures; the registry's stores are async.

func assertThrows<T>(_ expression: @autoclosure () async throws -> T, file: StaticString = #filePath, line: UInt = #line,
                     _ check: (Error) -> Void = { _ in }) async {
    do {
        _ = try await expression()
        XCTFail("no error was thrown", file: file, line: line)
    } catch { check(error) }
}

func assertEqual<T: Equatable>(_ expression: @autoclosure () async throws -> T, _ expected: T, _ message: String = "",
                               file: StaticString = #filePath, line: UInt = #line) async {
    do {
        let value = try await expression()
        XCTAssertEqual(value, expected, message, file: file, line: line)
    } catch {
        XCTFail("threw \(error)", file: file, line: line)
    }
}
