// swift-tools-version:6.1
import Foundation
import PackageDescription

/// A path dependency is known by its directory's name: strata's checkout
/// may be cloned under any name.
let strata = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

// An app that migrates its own SQLite database at start-up with the Strata
// library, from a `strata bundle` file it ships. It depends on strata's
// checkout by path and on its `Strata` product only.
let package = Package(
    name: "AppStartup",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: strata.path),
        // For the GRDB example only (about 24 s of a clean build).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .executableTarget(name: "app-startup", dependencies: [.product(name: "Strata", package: strata.lastPathComponent.lowercased())]),
        .executableTarget(name: "grdb-startup", dependencies: [
            .product(name: "Strata", package: strata.lastPathComponent.lowercased()),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ]
)
