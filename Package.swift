// swift-tools-version:6.2
import PackageDescription

/// tooltool-swift: a content-addressed artifact store for CI (`tooltool-server`) and its client (`tooltool`).
///
/// Targets, from the bottom up:
/// - `C*`: one thin system-library target per C library (module map + shim.h), nothing else.
/// - `Posix`: the file-system calls both sides share (whole writes, folders, status, directory streams, standard
///   streams), over Glibc alone.
/// - `Shared`: what client and server agree on (digests, manifests, visibility, permissions, error body, JSON).
/// - Server side: `HTTPServer` (our HTTP/1.1 layer on libevent, its own head reader + http_parser, knows nothing of
///   storage; `Shared` gives it the error names),
///   `Storage` (blobs on disk + metadata in SQLite or PostgreSQL, knows nothing of HTTP), `ServerApp` (routes, auth, commands),
///   and the one-file executable `tooltool-server`.
/// - Client side: `ClientCore` (libcurl transport, fetch, cache, unpack, commands) and the executable `tooltool`.
let package = Package(
    name: "tooltool-swift",
    // Linux only (built and tested on Debian 12): the server uses Glibc, epoll through libevent and `Mutex`; no
    // macOS platform is declared because none is built or tested.
    products: [
        .executable(name: "tooltool", targets: ["tooltool"]),
        .executable(name: "tooltool-server", targets: ["tooltool-server"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // C libraries.
        .systemLibrary(
            name: "CEvent", pkgConfig: "libevent_core",
            providers: [.apt(["libevent-dev"])]),
        .systemLibrary(name: "CHTTPParser", providers: [.apt(["libhttp-parser-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),

        // Both sides.
        .target(name: "Posix", path: "Sources/Posix"),
        .target(name: "Shared", dependencies: ["COpenSSL"], path: "Sources/Shared"),

        // Server.
        .target(
            name: "HTTPServer", dependencies: ["Shared", "CEvent", "CHTTPParser", "COpenSSL"],
            path: "Sources/Server/HTTP",
            swiftSettings: hotPathSettings),
        .target(name: "S3", dependencies: ["CCurl", "COpenSSL", "CEvent"], path: "Sources/Server/S3"),
        .target(
            name: "Storage", dependencies: ["Shared", "Posix", "CSQLite", "CPostgres", "S3"],
            path: "Sources/Server/Storage"),
        .target(
            name: "ServerApp",
            dependencies: [
                "Shared", "Posix", "CEvent", "HTTPServer", "Storage", "S3",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ],
            path: "Sources/Server/App", swiftSettings: hotPathSettings),
        .executableTarget(name: "tooltool-server", dependencies: ["ServerApp"], path: "Sources/Server/Main"),

        // Client.
        .target(
            name: "ClientCore", dependencies: ["Shared", "Posix", "CCurl", "CArchive"], path: "Sources/Client/Core"),
        .executableTarget(name: "tooltool", dependencies: ["ClientCore"], path: "Sources/Client/Main"),

        // Tests. End-to-end suites depend on the executables so `swift test` builds them first.
        .target(name: "TestSupport", dependencies: ["Shared", "S3"], path: "Tests/TestSupport"),
        .testTarget(name: "SharedTests", dependencies: ["Shared"]),
        .testTarget(name: "PosixTests", dependencies: ["Posix", "TestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "Shared", "CHTTPParser", "TestSupport"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TestSupport"]),
        .testTarget(name: "S3Tests", dependencies: ["S3", "TestSupport"], resources: [.copy("botocore_sign.py")]),
        .testTarget(name: "ServerTests", dependencies: ["ServerApp", "tooltool-server", "TestSupport"]),
        .testTarget(
            name: "ClientTests",
            dependencies: ["ClientCore", "tooltool", "tooltool-server", "TestSupport"]),
        // Faults, bad input, security and fuzz regressions, end to end against the real binaries.
        .testTarget(name: "ReliabilityTests", dependencies: ["Shared", "tooltool", "tooltool-server", "TestSupport"])
    ]
)

/// The request path's modules check exclusive access statically only in release builds: the runtime checks
/// (`swift_beginAccess`) were 2,100 of 36,000 instructions per small GET. Debug builds, which the tests run, keep
/// them, so a violation still fails there.
var hotPathSettings: [SwiftSetting] {
    [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
}

// Warnings are errors in every Swift target of ours (not in dependencies): CI and a developer's build fail alike.
for target in package.targets where target.type != .system && target.type != .binary {
    target.swiftSettings = (target.swiftSettings ?? []) + [.treatAllWarnings(as: .error)]
}
