import Foundation
import TestSupport
import Testing

/// `tooltool fetch --url MIRROR --url PRIMARY` against a real mirror (`serve --upstream`) and a real primary: the
/// client falls back whichever of them is down, and when the mirror's upstream sends wrong bytes.
@Suite struct MirrorFetchTests {
    @Test func fetchWorksWithTheMirrorDownThenBothUpThenThePrimaryDown() throws {
        let primaryRoot = TemporaryDirectory(prefix: "primary")
        let blobs = (0..<2).map { Blob("f\($0).bin", size: 500_000 + $0) }
        for blob in blobs { try Fixtures.write(blob.bytes, to: primaryRoot.file("public/sha512/\(blob.digest.hex)")) }
        let primary = try ServerProcess(root: primaryRoot.path)
        let mirrorRoot = TemporaryDirectory(prefix: "mirror")

        // The mirror down: nothing listens at its URL yet.
        let down = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest(blobs.map { $0.record() }, in: down.path)
        let first = try Client.run(
            ["fetch", "--url", try Client.deadURL(), "--url", primary.url, "--retries", "0"], in: down.path)
        #expect(first.status == 0, "\(first.stderr)")
        for blob in blobs { #expect(Client.holds(down.path, blob.name, blob.bytes)) }

        // Both up: the mirror fetches, verifies and keeps the blobs.
        let mirror = try ServerProcess(root: mirrorRoot.path, arguments: ["--upstream", primary.url])
        defer { mirror.stop() }
        let both = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest(blobs.map { $0.record() }, in: both.path)
        let second = try Client.run(
            ["fetch", "--url", mirror.url, "--url", primary.url, "--retries", "0"], in: both.path)
        #expect(second.status == 0, "\(second.stderr)")
        for blob in blobs {
            #expect(Client.holds(both.path, blob.name, blob.bytes))
            #expect(Fixtures.read(mirrorRoot.file("public/sha512/\(blob.digest.hex)")) == blob.bytes)
        }

        // The primary down: the mirror serves what it holds.
        primary.kill9()
        let primaryDown = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest(blobs.map { $0.record() }, in: primaryDown.path)
        let third = try Client.run(
            ["fetch", "--url", mirror.url, "--url", primary.url, "--retries", "0"], in: primaryDown.path)
        #expect(third.status == 0, "\(third.stderr)")
        for blob in blobs { #expect(Client.holds(primaryDown.path, blob.name, blob.bytes)) }
    }

    /// The mirror's upstream is a test double (`FaultServer`) that serves other bytes under the blob's digest; the
    /// real primary serves the right ones.
    @Test func wrongBytesUpstreamMakeTheClientFallBackAndTheMirrorKeepsNothing() throws {
        let blob = Blob("tool.tar", size: 1_500_000)
        let liar = try FaultServer { request in
            request.path == blob.urlPath
                ? .blob(Fixtures.randomBytes(blob.bytes.count)) : .respond(status: 404, headers: [], body: [])
        }
        defer { liar.stop() }
        let primaryRoot = TemporaryDirectory(prefix: "primary")
        try Fixtures.write(blob.bytes, to: primaryRoot.file("public/sha512/\(blob.digest.hex)"))
        let primary = try ServerProcess(root: primaryRoot.path)
        defer { primary.stop() }
        let mirrorRoot = TemporaryDirectory(prefix: "mirror")
        let mirror = try ServerProcess(root: mirrorRoot.path, arguments: ["--upstream", liar.url])
        defer { mirror.stop() }

        let dir = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest([blob.record()], in: dir.path)
        let result = try Client.run(
            ["fetch", "--url", mirror.url, "--url", primary.url, "--retries", "0"], in: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Client.holds(dir.path, blob.name, blob.bytes))
        #expect(Fixtures.read(mirrorRoot.file("public/sha512/\(blob.digest.hex)")) == nil)
        #expect(mirror.stderr().contains("nothing kept"))
    }
}
