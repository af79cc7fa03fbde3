// swift-tools-version:6.2
import PackageDescription

// Layers (docs/CONTRACT.md): each target depends only on the ones above it, so
// the compiler enforces the direction core <- sqlite <- migrate (the Strata
// library) <- store (log, then project) <- wire <- sync, registry <- cli. The
// registry does not link the client (libcurl), nor strata.toml's TOML and the
// importers; the client does not link the server. Only
// the Strata library declares `public` API; the other targets share theirs
// within the package (`package`).
/// The project's own targets build with no warning: CI fails on one
/// (dependencies' warnings are theirs, and not promoted).
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "strata",
    platforms: [.macOS(.v14)],
    products: [
        // For apps that migrate their own database at start-up: core and sqlite only.
        .library(name: "Strata", targets: ["Strata"]),
        .executable(name: "strata", targets: ["strata"]),
        .executable(name: "strata-registry", targets: ["strata-registry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The registry's GET /metrics (the server only; CLI commands do not link it).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The registry's PostgreSQL store, and its pages' templates (the server only).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // `swift package generate-documentation --target Strata` (the library's DocC); builds nothing otherwise.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // libcurl's headers only: ccurl.c loads the library with dlopen, so nothing links it.
        .target(name: "CCurl", cSettings: [.treatAllWarnings(as: .error)]),
        .target(name: "StrataCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .target(name: "StrataSQLite", dependencies: ["CSQLite", "StrataCore"], swiftSettings: strict),
        .target(name: "Strata", dependencies: ["StrataCore", "StrataSQLite"], swiftSettings: strict),
        // The logs (SQLite file, memory): what the registry needs of the store layer, without TOML or importers.
        .target(name: "StrataLog", dependencies: ["StrataCore", "StrataSQLite"], swiftSettings: strict),
        .target(name: "StrataStore", dependencies: ["StrataCore", "StrataSQLite", "Strata", "StrataLog", .product(name: "TOMLKit", package: "TOMLKit")], swiftSettings: strict),
        .target(name: "StrataWire", dependencies: ["StrataCore"], swiftSettings: strict),
        .target(name: "StrataSync", dependencies: ["CCurl", "StrataCore", "StrataSQLite", "Strata", "StrataLog", "StrataStore", "StrataWire"], swiftSettings: strict),
        .target(name: "StrataRegistry", dependencies: [
            "StrataCore", "StrataSQLite", "StrataLog", "StrataWire",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            // Its pool's error type, to tell "cannot connect" from a refusal.
            .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
            .product(name: "Mustache", package: "swift-mustache"),
            // A watch held open ends when the server shuts down gracefully.
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: strict),
        // The CLI links no HTTP server: `strata registry serve` runs strata-registry.
        .executableTarget(name: "strata", dependencies: [
            "StrataCore", "StrataSQLite", "Strata", "StrataLog", "StrataStore", "StrataWire", "StrataSync",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "TOMLKit", package: "TOMLKit"),
        ], swiftSettings: strict),
        .executableTarget(name: "strata-registry", dependencies: [
            "StrataCore", "StrataRegistry",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),
        .executableTarget(name: "strata-bench", dependencies: ["StrataCore", "StrataLog", "StrataStore", "StrataWire", "StrataRegistry"], swiftSettings: strict),
        // Shared by the test targets: a seeded generator and event chains.
        .target(name: "StrataTestSupport", dependencies: ["StrataCore"], path: "Tests/StrataTestSupport", swiftSettings: strict),
        .testTarget(name: "StrataCoreTests", dependencies: ["StrataCore"], swiftSettings: strict),
        .testTarget(name: "StrataSQLiteTests", dependencies: ["StrataCore", "StrataSQLite", "StrataLog", "StrataStore", "StrataTestSupport"], swiftSettings: strict),
        .testTarget(name: "StrataRegistryTests", dependencies: [
            "StrataCore", "StrataSQLite", "StrataLog", "StrataStore", "StrataWire", "StrataSync", "StrataRegistry", "StrataTestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ], swiftSettings: strict),
        .testTarget(name: "StrataSyncTests", dependencies: ["StrataCore", "StrataLog", "StrataStore", "StrataWire", "StrataSync"], swiftSettings: strict),
        .testTarget(name: "StrataCLITests", dependencies: [
            "strata", "StrataCore", "StrataSQLite", "StrataLog", "StrataStore", "StrataWire", "StrataSync", "StrataTestSupport", "Strata", "CSQLite",
        ], exclude: ["Fixtures"], swiftSettings: strict),
    ]
)
