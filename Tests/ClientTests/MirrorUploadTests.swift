import Foundation
import Shared
import TestSupport
import Testing

/// `tooltool upload --url MIRROR` and `tooltool fetch --url MIRROR` of pvt files, with the real client against a
/// real mirror (`serve --upstream`) in front of a real primary.
@Suite struct MirrorUploadTests {
    @Test func uploadThroughTheMirrorLandsOnThePrimaryAndPvtFilesFetchThroughItWithTheToken() throws {
        let fixture = try UploadFixture()
        let mirrorRoot = TemporaryDirectory(prefix: "mirror")
        let mirror = try ServerProcess(root: mirrorRoot.path, arguments: ["--upstream", fixture.server.url])
        defer { mirror.stop() }
        let uploader = try fixture.token("up", permissions: ["upload.public", "upload.internal", "download.internal"])
        let a = Blob("a.bin", size: 2_000_000), b = Blob("b.bin", size: 70_000)
        try fixture.add([(a, "public"), (b, "internal")])

        let upload = try fixture.upload("through the mirror", to: mirror.url, token: uploader)
        #expect(upload.status == 0, "\(upload.stderr)")
        #expect(Int(upload.stdout.trimmingCharacters(in: .newlines)) != nil, "stdout is the batch id: \(upload.stdout)")
        #expect(Fixtures.read(fixture.root.file("public/sha512/\(a.digest.hex)")) == a.bytes, "landed on the primary")
        #expect(Fixtures.read(fixture.root.file("pvt/sha512/\(b.digest.hex)")) == b.bytes)
        #expect(
            Fixtures.read(mirrorRoot.file("public/sha512/\(a.digest.hex)")) == nil, "the mirror took no upload itself")
        #expect(Fixtures.read(mirrorRoot.file("pvt/sha512/\(b.digest.hex)")) == nil)
        #expect(mirror.stderr().contains("POST /upload"), "the batch went through the mirror")

        // Fetched through the mirror: the pvt file with the token (kept under pvt/ there), not without one.
        let dest = TemporaryDirectory(prefix: "dest")
        try FileManager.default.copyItem(atPath: fixture.work.file("manifest.tt"), toPath: dest.file("manifest.tt"))
        let fetch = try Client.run(
            ["fetch", "--url", mirror.url, "--authentication-file", uploader, "--retries", "0"],
            in: dest.path)
        #expect(fetch.status == 0, "\(fetch.stderr)")
        #expect(Client.holds(dest.path, "a.bin", a.bytes))
        #expect(Client.holds(dest.path, "b.bin", b.bytes))
        #expect(Fixtures.read(mirrorRoot.file("pvt/sha512/\(b.digest.hex)")) == b.bytes)
        #expect(Fixtures.read(mirrorRoot.file("public/sha512/\(b.digest.hex)")) == nil)

        let anonymous = TemporaryDirectory(prefix: "anon")
        try FileManager.default.copyItem(
            atPath: fixture.work.file("manifest.tt"), toPath: anonymous.file("manifest.tt"))
        let denied = try Client.run(["fetch", "--url", mirror.url, "--retries", "0"], in: anonymous.path)
        #expect(denied.status == 1)
        #expect(denied.stderr.contains("failed to fetch: b.bin"))
        #expect(!Client.holds(anonymous.path, "b.bin", b.bytes))

        let token = try String(contentsOfFile: uploader, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(!mirror.stderr().contains(token), "the token is never logged")
    }
}
