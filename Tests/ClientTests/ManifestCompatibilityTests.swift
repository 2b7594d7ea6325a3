import Foundation
import Shared
import TestSupport
import Testing

/// Manifests as Mozilla's repositories write them (`"unpack": "True"` in mozharness configurations and friends):
/// the real `tooltool` reads them as tooltool.py 1.4.0 does, warns once, and writes the documented form back.
@Suite struct ManifestCompatibilityTests {
    /// A tar holding `NAME/hello.txt`, so whether it was unpacked shows as a folder.
    private func archive(_ stem: String, in work: TemporaryDirectory) throws -> Blob {
        try Fixtures.write(Array("hello \(stem)\n".utf8), to: work.file("src/\(stem)/hello.txt"))
        let run = try ProcessRunner.run(
            "/usr/bin/env", ["tar", "-czf", work.file("\(stem).tar.gz"), stem], directory: work.file("src"))
        #expect(run.status == 0, "\(run.stderr)")
        return Blob("\(stem).tar.gz", bytes: Fixtures.read(work.file("\(stem).tar.gz")) ?? [])
    }

    /// One record the way mozharness configurations write it: their key order, their indentation, `unpack` as given.
    private func mozharnessRecord(_ blob: Blob, unpack: String) -> String {
        """
                {
                "size": \(blob.bytes.count),
                "digest": "\(blob.digest.hex)",
                "algorithm": "sha512",
                "filename": "\(blob.name)",
                "unpack": \(unpack)
                }
        """
    }

    /// `unpack` as JSON text, and whether tooltool.py's `if f.unpack:` unpacks it.
    static let unpackValues: [(String, Bool)] = [
        ("\"True\"", true), ("\"False\"", true), ("\"\"", false), ("1", true), ("0", false), ("null", false)
    ]

    @Test func unpackIsReadWithPythonTruthinessAndWarnedOnce() throws {
        let work = TemporaryDirectory(prefix: "pack")
        let blobs = try Self.unpackValues.indices.map { try archive("tool\($0)", in: work) }
        let server = try Client.blobServer(blobs)
        let dir = TemporaryDirectory(prefix: "compat")
        let text =
            "\n        [\n"
            + zip(blobs, Self.unpackValues).map { mozharnessRecord($0, unpack: $1.0) }
            .joined(separator: ",\n") + "\n        ] "
        try Fixtures.write(Array(text.utf8), to: dir.file("manifest.tt"))

        let fetch = try Client.run(["fetch", "--url", server.url], in: dir.path)
        #expect(fetch.status == 0, "\(fetch.stderr)")
        let warnings = fetch.stderr.split(separator: "\n").filter { $0.hasPrefix("WARNING - ") }
        #expect(warnings.count == 1, "\(fetch.stderr)")
        let warning = String(warnings.first ?? "")
        #expect(warning.hasPrefix("WARNING - manifest.tt: not as documented, read as tooltool.py 1.4.0 reads it: "))
        #expect(warning.contains("record 0 (tool0.tar.gz) \"unpack\": \"True\" taken as true"), "\(warning)")
        #expect(warning.contains("record 1 (tool1.tar.gz) \"unpack\": \"False\" taken as true"), "\(warning)")
        #expect(warning.contains("record 2 (tool2.tar.gz) \"unpack\": \"\" taken as false"), "\(warning)")
        #expect(warning.contains("record 5 (tool5.tar.gz) \"unpack\": null taken as false"), "\(warning)")
        for (index, (blob, value)) in zip(blobs, Self.unpackValues).enumerated() {
            #expect(Client.holds(dir.path, blob.name, blob.bytes))
            let unpacked = Client.file(dir.path, "tool\(index)/hello.txt")
            #expect(
                (unpacked != nil) == value.1,
                "unpack \(value.0): tool\(index)/ \(unpacked == nil ? "absent" : "present")")
            if value.1 { #expect(unpacked == Array("hello tool\(index)\n".utf8)) }
        }

        let list = try Client.run(["list"], in: dir.path)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout == blobs.map { "P\tV\t\($0.name)\n" }.joined())
        #expect(list.stderr.components(separatedBy: "WARNING - ").count == 2, "\(list.stderr)")
        let validate = try Client.run(["validate"], in: dir.path)
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stderr.components(separatedBy: "WARNING - ").count == 2, "\(validate.stderr)")

        // `add` writes the whole manifest back in the documented form: `"unpack": true` or nothing.
        let extra = Blob("extra.bin", size: 10)
        try Fixtures.write(extra.bytes, to: dir.file(extra.name))
        let add = try Client.run(["add", extra.name], in: dir.path)
        #expect(add.status == 0, "\(add.stderr)")
        let written = String(decoding: Client.file(dir.path, "manifest.tt") ?? [], as: UTF8.self)
        let expected = Manifest(
            records: [extra.record()] + zip(blobs, Self.unpackValues).map { $0.record(unpack: $1.1) })
        #expect(written == expected.serialized())
        let again = try Client.run(["list"], in: dir.path)
        #expect(again.status == 0)
        #expect(!again.stderr.contains("WARNING"), "the rewritten manifest is in the documented form: \(again.stderr)")
    }

    @Test func aNullSizeIsCheckedByTheDigestAlone() throws {
        let blob = Blob("nosize.bin", size: 70_000)
        let server = try Client.blobServer([blob])
        let dir = TemporaryDirectory(prefix: "compat")
        let text =
            #"[{"filename": "nosize.bin", "size": null, "algorithm": "sha512", "digest": "\#(blob.digest.hex)"}]"#
        try Fixtures.write(Array(text.utf8), to: dir.file("manifest.tt"))
        let fetch = try Client.run(["fetch", "--url", server.url], in: dir.path)
        #expect(fetch.status == 0, "\(fetch.stderr)")
        #expect(
            fetch.stderr.contains("record 0 (nosize.bin) \"size\": null taken as unknown (only the digest is checked)"))
        #expect(Client.holds(dir.path, blob.name, blob.bytes))
        #expect(try Client.run(["validate"], in: dir.path).status == 0)
        #expect(try Client.run(["list"], in: dir.path).stdout == "P\tV\tnosize.bin\n")

        // Other bytes, of another size, are still found out: by the digest.
        try Fixtures.write(Fixtures.randomBytes(10), to: dir.file(blob.name))
        let validate = try Client.run(["validate"], in: dir.path)
        #expect(validate.status == 1)
        #expect(validate.stderr.contains("ERROR - nosize.bin is not valid: digest is"), "\(validate.stderr)")
        let again = try Client.run(["fetch", "--url", server.url], in: dir.path)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(Client.holds(dir.path, blob.name, blob.bytes))

        // A server sending other bytes is refused, whatever their size.
        let liar = try FaultServer { _ in .blob(Fixtures.randomBytes(500)) }
        try FileManager.default.removeItem(atPath: dir.file(blob.name))
        let refused = try Client.run(["fetch", "--url", liar.url, "--retries", "0"], in: dir.path)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("digest is"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file(blob.name)))
    }

    @Test func otherMembersAreReadAsTooltoolPyReadsThem() throws {
        let blob = Blob("data.bin", size: 300), other = Blob("other.bin", size: 20)
        let server = try Client.blobServer([blob, other])
        let dir = TemporaryDirectory(prefix: "compat")
        // size as a float, version as a number, setup as a list, visibility outside the two names, a duplicate key
        // (the last wins, as in Python), and two elements tooltool.py's decoder drops.
        let text = """
            [{"filename": "data.bin", "size": 300.0, "algorithm": "sha512", "digest": "\(blob.digest.hex)",
              "version": 3, "setup": ["a.sh"], "visibility": "Public", "unpack": true, "unpack": false},
             {"filename": "other.bin", "size": 20, "algorithm": "sha512", "digest": "\(other.digest.hex)", "visibility": null},
             {"filename": "nodigest.bin", "size": 1, "algorithm": "sha512"},
             "a string"]
            """
        try Fixtures.write(Array(text.utf8), to: dir.file("manifest.tt"))
        let fetch = try Client.run(["fetch", "--url", server.url], in: dir.path)
        #expect(fetch.status == 0, "\(fetch.stderr)")
        #expect(Client.holds(dir.path, blob.name, blob.bytes))
        #expect(Client.holds(dir.path, other.name, other.bytes))
        #expect(!FileManager.default.fileExists(atPath: dir.file("nodigest.bin")))
        let warnings = fetch.stderr.split(separator: "\n").filter { $0.hasPrefix("WARNING - ") }
        #expect(warnings.count == 1, "\(fetch.stderr)")
        let warning = String(warnings.first ?? "")
        for part in [
            "record 0 (data.bin) \"size\": 300.0 taken as 300", "record 0 (data.bin) \"version\": 3 taken as \"3\"",
            "record 0 (data.bin) \"setup\": [\"a.sh\"] kept as written",
            "record 0 (data.bin) \"visibility\": \"Public\" kept as written",
            "record 1 (other.bin) \"visibility\": null taken as no visibility",
            "record 2 (nodigest.bin) skipped: no \"digest\"", "record 3 skipped: not an object but a string"
        ] {
            #expect(warning.contains(part), "\(part) in \(warning)")
        }
        #expect(!warning.contains("unpack"), "the last of two booleans wins, without a warning: \(warning)")

        let list = try Client.run(["list"], in: dir.path)
        #expect(list.status == 0)
        #expect(list.stdout == "P\tV\tdata.bin\nP\tV\tother.bin\n")
        let named = try Client.run(["fetch", "--url", server.url, "nodigest.bin"], in: dir.path)
        #expect(named.status == 1)
        #expect(named.stderr.contains("ERROR - nodigest.bin is not in the manifest manifest.tt"), "\(named.stderr)")

        // Upload would send that visibility to the server as it is; the client refuses it before any request.
        let secrets = TemporaryDirectory(prefix: "token")
        try Fixtures.write(Array("t\n".utf8), to: secrets.file("token"))
        let upload = try Client.run(
            ["upload", "--url", server.url, "--message", "m", "--authentication-file", secrets.file("token")],
            in: dir.path)
        #expect(upload.status != 0)
        #expect(
            upload.stderr.contains(
                "data.bin has visibility \"Public\" in the manifest: it must be \"public\" or \"internal\""),
            "\(upload.stderr)")
        #expect(!server.requests.contains { $0.method == "POST" })
    }
}
