import Foundation
import TestSupport
import Testing

/// Whether the `tooltool-server` binary is more than its placeholder.
enum ServerBinary {
    /// False while it prints "not implemented yet".
    static let implemented: Bool = {
        guard let help = try? ProcessRunner.run(Binaries.server, ["--help"], timeout: 20) else { return false }
        return !(help.stdout + help.stderr).contains("not implemented yet")
    }()
}

/// Fetch against the real server (issue 3's GET), with blobs placed in its store by hand as an admin may.
@Suite(.enabled(if: ServerBinary.implemented, "tooltool-server still reports \"not implemented yet\""))
struct ServerFetchTests {
    @Test func fetchFromARealServerAfterADeadOne() throws {
        let root = TemporaryDirectory(prefix: "server")
        let blobs = (0..<3).map { Blob("f\($0).bin", size: 1_000_000 + $0) }
        for blob in blobs { try Fixtures.write(blob.bytes, to: root.file("public/sha512/\(blob.digest.hex)")) }
        let server = try ServerProcess(root: root.path)
        defer { server.stop() }
        let dir = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest(blobs.map { $0.record() }, in: dir.path)
        let result = try Client.run(
            ["fetch", "--url", try Client.deadURL(), "--url", server.url, "--retries", "0"], in: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        for blob in blobs { #expect(Client.holds(dir.path, blob.name, blob.bytes)) }
    }

    @Test func internalBlobNeedsAToken() throws {
        let root = TemporaryDirectory(prefix: "server")
        let blob = Blob("secret.bin", size: 1000)
        try Fixtures.write(blob.bytes, to: root.file("pvt/sha512/\(blob.digest.hex)"))
        let server = try ServerProcess(root: root.path)
        defer { server.stop() }
        let dir = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest([blob.record()], in: dir.path)
        let result = try Client.run(["fetch", "--url", server.url], in: dir.path)
        #expect(result.status == 1)
        #expect(result.stderr.contains("HTTP 401"), "\(result.stderr)")
    }
}
