import Foundation
import Shared
import TestSupport
import Testing

/// `add`, `list`, `validate` and manifest errors.
@Suite struct ManifestCommandTests {
    @Test func addWritesTooltoolFormatNewRecordsFirst() throws {
        let dir = TemporaryDirectory(prefix: "add")
        let a = Blob("a.bin", size: 1000), b = Blob("b.tar.gz", size: 10)
        try Fixtures.write(a.bytes, to: dir.file("a.bin"))
        try Fixtures.write(b.bytes, to: dir.file("b.tar.gz"))
        #expect(try Client.run(["add", "a.bin"], in: dir.path).status == 0)
        let second = try Client.run(
            ["add", "--visibility", "internal", "--unpack", "--version", "1.2", "b.tar.gz"], in: dir.path)
        #expect(second.status == 0, "\(second.stderr)")
        let expected = Manifest(records: [
            b.record(unpack: true, visibility: .internal).with(version: "1.2"), a.record()
        ]).serialized()
        #expect(String(decoding: Client.file(dir.path, "manifest.tt") ?? [], as: UTF8.self) == expected)
        #expect(expected.contains("\"unpack\": true,\n    \"version\": \"1.2\",\n    \"visibility\": \"internal\""))
    }

    @Test func addRefusesIdenticalAndConflictingRecords() throws {
        let dir = TemporaryDirectory(prefix: "add")
        try Fixtures.write(Fixtures.randomBytes(50), to: dir.file("a.bin"))
        #expect(try Client.run(["add", "a.bin"], in: dir.path).status == 0)
        let again = try Client.run(["add", "a.bin"], in: dir.path)
        #expect(again.status == 1)
        #expect(again.stderr.contains("ERROR - manifest already contains an identical record for a.bin"))
        try Fixtures.write(Fixtures.randomBytes(50), to: dir.file("a.bin"))
        let changed = try Client.run(["add", "a.bin"], in: dir.path)
        #expect(changed.status == 1)
        #expect(changed.stderr.contains("ERROR - manifest already contains a different file named a.bin"))
        #expect(try Client.run(["add", "missing.bin"], in: dir.path).status == 1)
    }

    @Test func listAndValidateReportPresenceAndValidity() throws {
        let dir = TemporaryDirectory(prefix: "list")
        let good = Blob("good", size: 100), bad = Blob("bad", size: 100), gone = Blob("gone", size: 100)
        try Client.writeManifest([good.record(), bad.record(), gone.record()], in: dir.path)
        try Fixtures.write(good.bytes, to: dir.file("good"))
        try Fixtures.write(Fixtures.randomBytes(100), to: dir.file("bad"))
        let list = try Client.run(["list"], in: dir.path)
        #expect(list.status == 0)
        #expect(list.stdout == "P\tV\tgood\nP\t-\tbad\n-\t-\tgone\n")
        let validate = try Client.run(["validate"], in: dir.path)
        #expect(validate.status == 1)
        #expect(validate.stderr.contains("ERROR - bad is not valid: digest is"))
        #expect(validate.stderr.contains("ERROR - gone is not valid: missing"))
        #expect(!validate.stderr.contains("good"))
        try Fixtures.write(bad.bytes, to: dir.file("bad"))
        try Fixtures.write(gone.bytes + [1], to: dir.file("gone"))
        #expect(
            try Client.run(["validate"], in: dir.path).stderr.contains(
                "gone is not valid: size is 101 bytes, expected 100"))
        try Fixtures.write(gone.bytes, to: dir.file("gone"))
        #expect(try Client.run(["validate"], in: dir.path).status == 0)
    }

    @Test func manifestErrorsNameTheProblem() throws {
        let dir = TemporaryDirectory(prefix: "manifest")
        let missing = try Client.run(["list"], in: dir.path)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("ERROR - manifest manifest.tt does not exist"))
        try Fixtures.write(Array("[{\"filename\": ".utf8), to: dir.file("manifest.tt"))
        let malformed = try Client.run(["validate"], in: dir.path)
        #expect(malformed.status == 1)
        #expect(malformed.stderr.contains("invalid JSON at byte"))
        let good = Blob("x", size: 3)
        let text =
            "[" + JSONWriter.write(good.record().json)
            + ", {\"filename\": \"y\", \"size\": \"12\", \"algorithm\": \"sha512\", \"digest\": \"\(good.digest.hex)\"}]"
        try Fixtures.write(Array(text.utf8), to: dir.file("manifest.tt"))
        let badRecord = try Client.run(["fetch"], in: dir.path)
        #expect(badRecord.status == 1)
        #expect(
            badRecord.stderr.contains("record 1, field \"size\": must be an integer, got a string"),
            "\(badRecord.stderr)")
    }
}

extension ManifestRecord {
    /// The record with `version` set.
    func with(version: String) -> ManifestRecord {
        var copy = self
        copy.version = version
        return copy
    }
}
