import Foundation
import Shared
import TestSupport
import Testing

/// A real server with a temp root and tokens for the tests.
final class UploadFixture {
    let root = TemporaryDirectory(prefix: "server")
    let work = TemporaryDirectory(prefix: "client")
    let server: ServerProcess

    init() throws {
        server = try ServerProcess(root: root.path)
    }

    /// Creates a token for `user` with `permissions` and writes it to `work/<file>`; returns the file name.
    func token(_ file: String, permissions: [String]) throws -> String {
        let result = try ProcessRunner.run(
            Binaries.server,
            ["token", "create", "--user", "tester", "--root", root.path]
                + permissions.flatMap { ["--permission", $0] })
        guard result.status == 0 else { throw TestError("token create failed: \(result.stderr)") }
        try Fixtures.write(Array(result.stdout.utf8), to: work.file(file))
        return work.file(file)
    }

    /// Writes each blob into `work` and adds it to the manifest there with its visibility (`tooltool add`).
    func add(_ files: [(Blob, visibility: String)]) throws {
        for (blob, visibility) in files {
            try Fixtures.write(blob.bytes, to: work.file(blob.name))
            let added = try Client.run(["add", "--visibility", visibility, blob.name], in: work.path)
            #expect(added.status == 0, "add \(blob.name): \(added.stderr)")
        }
    }

    /// `tooltool upload` of `work`'s manifest to `url` (by default this fixture's server) with the token file `token`.
    func upload(_ message: String, to url: String? = nil, token: String) throws -> ProcessResult {
        try Client.run(
            ["upload", "--message", message, "--url", url ?? server.url, "--authentication-file", token],
            in: work.path)
    }

    deinit { server.stop() }
}

/// The upload flow, change-visibility and delete against the real server (issue 4's API).
@Suite
struct UploadFlowTests {
    @Test func uploadThenFetchWhatWasUploaded() throws {
        let fixture = try UploadFixture()
        let uploader = try fixture.token("up", permissions: ["upload.public", "upload.internal", "download.internal"])
        let a = Blob("a.bin", size: 3_000_000), b = Blob("b.bin", size: 1000)
        try fixture.add([(a, "public"), (b, "internal")])
        let upload = try fixture.upload("first batch", token: uploader)
        #expect(upload.status == 0, "\(upload.stderr)")
        #expect(
            Int(upload.stdout.trimmingCharacters(in: .newlines)) != nil,
            "stdout is the batch id alone: \(upload.stdout)")
        #expect(upload.stdout.hasSuffix("\n") && upload.stdout.split(separator: "\n").count == 1)

        let again = try fixture.upload("again", token: uploader)
        #expect(again.status == 0, "\(again.stderr)")

        let dest = TemporaryDirectory(prefix: "dest")
        try FileManager.default.copyItem(atPath: fixture.work.file("manifest.tt"), toPath: dest.file("manifest.tt"))
        let fetch = try Client.run(
            ["fetch", "--url", fixture.server.url, "--authentication-file", uploader], in: dest.path)
        #expect(fetch.status == 0, "\(fetch.stderr)")
        #expect(Client.holds(dest.path, "a.bin", a.bytes))
        #expect(Client.holds(dest.path, "b.bin", b.bytes))
        let anonymous = TemporaryDirectory(prefix: "anon")
        try FileManager.default.copyItem(
            atPath: fixture.work.file("manifest.tt"), toPath: anonymous.file("manifest.tt"))
        let denied = try Client.run(["fetch", "--url", fixture.server.url, "--retries", "0"], in: anonymous.path)
        #expect(denied.status == 1)
        #expect(denied.stderr.contains("failed to fetch: b.bin"))
    }

    @Test func uploadWithoutPermissionPrintsTheServersMessage() throws {
        let fixture = try UploadFixture()
        let reader = try fixture.token("reader", permissions: ["download.public"])
        try fixture.add([(Blob("a.bin", size: 100), "public")])
        let upload = try fixture.upload("m", token: reader)
        #expect(upload.status == 1)
        #expect(upload.stderr.contains("HTTP 403"), "\(upload.stderr)")
        #expect(upload.stdout.isEmpty)
    }

    @Test func changeVisibilityAndDeleteNeedManage() throws {
        let fixture = try UploadFixture()
        let uploader = try fixture.token("up", permissions: ["upload.public", "upload.internal"])
        let manager = try fixture.token("manage", permissions: ["manage", "download.internal"])
        let blob = Blob("a.bin", size: 10_000)
        try fixture.add([(blob, "public")])
        #expect(try fixture.upload("m", token: uploader).status == 0)
        let common = ["--digest", blob.digest.hex, "--url", fixture.server.url]

        let refused = try Client.run(
            ["change-visibility", "--visibility", "internal", "--authentication-file", uploader] + common,
            in: fixture.work.path)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("HTTP 403"), "\(refused.stderr)")
        let changed = try Client.run(
            ["change-visibility", "--visibility", "internal", "--authentication-file", manager] + common,
            in: fixture.work.path)
        #expect(changed.status == 0, "\(changed.stderr)")

        let anonymous = TemporaryDirectory(prefix: "anon")
        try Client.writeManifest([blob.record()], in: anonymous.path)
        #expect(
            try Client.run(["fetch", "--url", fixture.server.url, "--retries", "0"], in: anonymous.path).status == 1)
        #expect(
            try Client.run(["fetch", "--url", fixture.server.url, "--authentication-file", manager], in: anonymous.path)
                .status == 0)

        #expect(
            try Client.run(["delete", "--authentication-file", uploader] + common, in: fixture.work.path).status == 1)
        let deleted = try Client.run(["delete", "--authentication-file", manager] + common, in: fixture.work.path)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let gone = TemporaryDirectory(prefix: "gone")
        try Client.writeManifest([blob.record()], in: gone.path)
        let after = try Client.run(
            ["fetch", "--url", fixture.server.url, "--authentication-file", manager, "--retries", "0"],
            in: gone.path)
        #expect(after.status == 1)
        #expect(after.stderr.contains("HTTP 404"), "\(after.stderr)")
    }

    @Test func unknownDigestIsReported() throws {
        let fixture = try UploadFixture()
        let manager = try fixture.token("manage", permissions: ["manage"])
        let result = try Client.run(
            [
                "delete", "--digest", Blob("x", size: 1).digest.hex, "--url", fixture.server.url,
                "--authentication-file", manager
            ], in: fixture.work.path)
        #expect(result.status == 1)
        #expect(result.stderr.contains("HTTP 404"))
    }
}
