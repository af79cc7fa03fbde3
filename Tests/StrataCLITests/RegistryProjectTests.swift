import Foundation
import XCTest

/// `strata registry project create NAME` (admin token), and a push to a
/// project that does not exist, which says that command.
final class RegistryProjectTests: XCTestCase {
    func testAProjectIsCreatedByAnAdminAndAPushBeforeThatSaysHow() throws {
        let registry = try RegistryProcess()
        let node = try CLI()
        node.env["STRATA_TOKEN"] = "s3cret-ana"
        try node.ok("init", "--project", "lab", "--node", "n1", "--models", "models.sql", "--db", "app.db", "--registry", registry.url)
        try node.write("models.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n")
        try node.ok("revision", "--autogenerate", "-m", "a")
        let early = try node.run("push")
        XCTAssertNotEqual(early.status, 0)
        XCTAssertTrue(early.stderr.contains("unknown project lab; an admin creates it with `strata registry project create lab`"), early.stderr)

        // A push token may not create projects.
        let refused = try node.run("registry", "project", "create", "lab")
        XCTAssertEqual(refused.status, 4)
        XCTAssertTrue(refused.stderr.contains("ana has the push role; this needs admin"), refused.stderr)

        let admin = try CLI()
        admin.env["STRATA_TOKEN"] = "s3cret-root"
        try admin.ok("init", "--project", "ops", "--node", "admin", "--models", "models.sql", "--db", "app.db", "--registry", registry.url)
        XCTAssertEqual(try admin.ok("registry", "project", "create", "lab").stdout, "created project lab on \(registry.url)\n")
        try node.ok("push")
        XCTAssertEqual(try admin.run("registry", "project", "create", "lab").status, 3, "it exists already: a conflict")
    }
}
