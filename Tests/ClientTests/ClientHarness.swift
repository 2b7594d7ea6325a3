import Foundation
import Shared
import TestSupport

/// A test file: a name, random bytes and the manifest record naming them.
struct Blob: Sendable {
    /// The file name.
    let name: String
    /// The content.
    let bytes: [UInt8]
    /// The SHA-512 of the content.
    var digest: Digest { Fixtures.digest(bytes) }

    /// A blob of `size` random bytes.
    init(_ name: String, size: Int) {
        self.name = name
        bytes = Fixtures.randomBytes(size)
    }

    /// A blob with the given content.
    init(_ name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    /// The record for this blob.
    func record(unpack: Bool = false, visibility: Visibility? = nil) -> ManifestRecord {
        ManifestRecord(filename: name, size: Int64(bytes.count), digest: digest, unpack: unpack, visibility: visibility)
    }

    /// The blob's path on a server.
    var urlPath: String { "/sha512/\(digest.hex)" }
}

/// Runs the real `tooltool` binary the way a CI job would.
enum Client {
    /// The environment every run gets: no proxy for loopback, a 1 ms backoff base, no inherited URL or cache.
    static let environment = [
        "no_proxy": "*", "NO_PROXY": "*", "TOOLTOOL_RETRY_BASE_MS": "1",
        "TOOLTOOL_URL": "", "TOOLTOOL_CACHE": ""
    ]

    /// Runs `tooltool arguments...` in `directory`.
    static func run(
        _ arguments: [String], in directory: String, environment: [String: String] = [:],
        timeout: TimeInterval = 120
    ) throws -> ProcessResult {
        try ProcessRunner.run(
            Binaries.client, arguments, directory: directory,
            environment: Client.environment.merging(environment) { $1 }, timeout: timeout)
    }

    /// Starts `tooltool arguments...` in `directory` without waiting (for concurrent runs).
    static func start(_ arguments: [String], in directory: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.client)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(Client.environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Writes a manifest of `records` at `directory/name`.
    static func writeManifest(_ records: [ManifestRecord], in directory: String, name: String = "manifest.tt") throws {
        try Fixtures.write(Array(Manifest(records: records).serialized().utf8), to: directory + "/" + name)
    }

    /// A fault server that serves `blobs` by digest (with Range support) and 404 for anything else.
    static func blobServer(_ blobs: [Blob]) throws -> FaultServer {
        let table = Dictionary(blobs.map { ($0.urlPath, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        return try FaultServer { request in
            if let bytes = table[request.path] { return .blob(bytes) }
            return .respond(
                status: 404, headers: [("Content-Type", "application/json")],
                body: Array(APIError(name: .notFound, description: "no such blob").body.utf8))
        }
    }

    /// A URL on which nothing listens (a port just released).
    static func deadURL() throws -> String {
        let server = try FaultServer { _ in .respond(status: 500, headers: [], body: []) }
        let url = server.url
        server.stop()
        return url
    }

    /// True when `directory/name` holds exactly `bytes` (or is absent when `bytes` is nil); prints sizes, not bytes.
    static func holds(_ directory: String, _ name: String, _ bytes: [UInt8]?) -> Bool {
        let actual = file(directory, name)
        if actual == bytes { return true }
        print(
            "\(directory)/\(name): expected \(bytes.map { "\($0.count) bytes" } ?? "no file"), got \(actual.map { "\($0.count) different bytes" } ?? "no file")"
        )
        return false
    }

    /// The bytes of `directory/name`, nil when absent.
    static func file(_ directory: String, _ name: String) -> [UInt8]? { Fixtures.read(directory + "/" + name) }
}

/// Seconds elapsed while running `body`.
func measure<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = Date()
    let value = try body()
    return (value, Date().timeIntervalSince(start))
}

/// A set-up step of a test failed.
struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
