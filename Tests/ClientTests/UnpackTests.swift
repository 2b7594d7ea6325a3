import Foundation
import TestSupport
import Testing

/// Unpack through libarchive: every format, the old folder replaced, every refused entry kind.
@Suite struct UnpackTests {
    /// Makes `pkg/` (a file, a nested file, a relative link) in `dir/src` and packs it as `name` with `command`.
    private func makeArchive(_ name: String, in dir: TemporaryDirectory, command: [String]) throws -> Blob {
        let src = dir.file("src")
        try Fixtures.write(Array("hello\n".utf8), to: src + "/pkg/hello.txt")
        try Fixtures.write(Fixtures.randomBytes(5000), to: src + "/pkg/sub/data.bin")
        try FileManager.default.createSymbolicLink(atPath: src + "/pkg/link", withDestinationPath: "sub/data.bin")
        let run = try ProcessRunner.run(
            "/usr/bin/env", command.map { $0.replacingOccurrences(of: "ARCHIVE", with: dir.file(name)) },
            directory: src)
        #expect(run.status == 0, "\(command): \(run.stderr)")
        return Blob(name, bytes: Fixtures.read(dir.file(name)) ?? [])
    }

    @Test(arguments: [
        ("pkg.tar", ["tar", "-cf", "ARCHIVE", "pkg"]),
        ("pkg.tar.gz", ["tar", "-czf", "ARCHIVE", "pkg"]),
        ("pkg.tar.bz2", ["tar", "-cjf", "ARCHIVE", "pkg"]),
        ("pkg.tar.xz", ["tar", "-cJf", "ARCHIVE", "pkg"]),
        ("pkg.tar.zst", ["tar", "--zstd", "-cf", "ARCHIVE", "pkg"]),
        ("pkg.zip", ["zip", "-qry", "ARCHIVE", "pkg"])
    ])
    func unpacksEachFormat(name: String, command: [String]) throws {
        let work = TemporaryDirectory(prefix: "pack")
        let archive = try makeArchive(name, in: work, command: command)
        let server = try Client.blobServer([archive])
        let dir = TemporaryDirectory(prefix: "unpack")
        try Fixtures.write(Array("stale".utf8), to: dir.file("pkg/stale.txt"))
        try Client.writeManifest([archive.record(unpack: true)], in: dir.path)
        let result = try Client.run(["fetch", "--url", server.url], in: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Client.holds(dir.path, "pkg/hello.txt", Array("hello\n".utf8)))
        #expect(Client.holds(dir.path, "pkg/sub/data.bin", Client.file(work.path, "src/pkg/sub/data.bin")))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.file("pkg/link")) == "sub/data.bin")
        #expect(!FileManager.default.fileExists(atPath: dir.file("pkg/stale.txt")), "the old folder is removed first")
        #expect(Client.holds(dir.path, name, archive.bytes), "the archive itself stays")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func setuidAndSetgidAreDropped() throws {
        let work = TemporaryDirectory(prefix: "pack")
        let archive = try PythonTar.make(
            work.file("ids.tar"),
            entries: [
                .file("ids/tool", mode: 0o6755)
            ])
        let server = try Client.blobServer([archive])
        let dir = TemporaryDirectory(prefix: "unpack")
        try Client.writeManifest([archive.record(unpack: true)], in: dir.path)
        let result = try Client.run(["fetch", "--url", server.url], in: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        let mode = try #require(
            try FileManager.default.attributesOfItem(atPath: dir.file("ids/tool"))[.posixPermissions] as? Int)
        #expect(mode & 0o6000 == 0)
        #expect(mode & 0o755 == 0o755)
    }

    @Test(arguments: [
        (PythonTar.Entry.file("/tmp/tooltool-absolute-escape", mode: 0o644), "is an absolute path"),
        (PythonTar.Entry.file("evil/../../escape", mode: 0o644), "contains '..'"),
        (PythonTar.Entry.symlink("evil/up", target: "../../etc"), "outside the folder"),
        (PythonTar.Entry.symlink("evil/abs", target: "/etc/passwd"), "links to the absolute path"),
        (PythonTar.Entry.hardlink("evil/hard", target: "../outside"), "is a hard link whose target"),
        (PythonTar.Entry.device("evil/null"), "is a device file")
    ])
    func refusesUnsafeEntries(entry: PythonTar.Entry, message: String) throws {
        let work = TemporaryDirectory(prefix: "pack")
        let archive = try PythonTar.make(work.file("evil.tar"), entries: [.file("evil/ok.txt", mode: 0o644), entry])
        let server = try Client.blobServer([archive])
        let dir = TemporaryDirectory(prefix: "unpack")
        try Client.writeManifest([archive.record(unpack: true)], in: dir.path)
        try Fixtures.write(Array("old".utf8), to: dir.file("evil/old.txt"))
        let result = try Client.run(["fetch", "--url", server.url], in: dir.path)
        #expect(result.status == 1)
        #expect(result.stderr.contains("ERROR - unpack refused: evil.tar: "), "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stderr.contains("failed to fetch"), "\(result.stderr)")
        #expect(Client.holds(dir.path, "evil.tar", archive.bytes), "the archive is in place")
        #expect(
            !FileManager.default.fileExists(atPath: dir.file("evil/ok.txt")), "nothing of a refused archive is left")
        #expect(
            Client.holds(dir.path, "evil/old.txt", Array("old".utf8)), "the earlier unpacked folder is left as it was")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/tooltool-absolute-escape"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    /// Archives made by GNU tar itself: one with a `../` entry (`-P` keeps it), one whose absolute symlink to a folder
    /// outside is followed by an entry through it (appended with `-r` from a tree where that path is a real folder).
    static let realArchives: [(String, String)] = [
        ("dotdot", "\"../escape.txt\" contains '..'"),
        ("symlink", "\"evil/link\" links to the absolute path")
    ]

    @Test(arguments: 0..<realArchives.count)
    func aRefusedArchiveIsReportedAsPresentAndVerifiedNotAsAFailedDownload(index: Int) throws {
        let (kind, reason) = Self.realArchives[index]
        let top = TemporaryDirectory(prefix: "refused")
        let outside = top.file("outside"), job = top.file("job"), src = top.file("src"),
            archivePath = top.file("evil.tar")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Fixtures.write(Array("ok\n".utf8), to: src + "/a/evil/ok.txt")
        if kind == "dotdot" {
            try Fixtures.write(Array("escaped\n".utf8), to: src + "/escape.txt")
            let run = try ProcessRunner.run(
                "/usr/bin/env", ["tar", "-cPf", archivePath, "evil/ok.txt", "../escape.txt"],
                directory: src + "/a")
            #expect(run.status == 0, "\(run.stderr)")
        } else {
            try FileManager.default.createSymbolicLink(atPath: src + "/a/evil/link", withDestinationPath: outside)
            try Fixtures.write(Array("pwned\n".utf8), to: src + "/b/evil/link/pwned.txt")
            let first = try ProcessRunner.run(
                "/usr/bin/env", ["tar", "-cf", archivePath, "evil"], directory: src + "/a")
            let second = try ProcessRunner.run(
                "/usr/bin/env", ["tar", "-rf", archivePath, "evil/link/pwned.txt"], directory: src + "/b")
            #expect(first.status == 0 && second.status == 0, "\(first.stderr) \(second.stderr)")
        }
        let listing = try ProcessRunner.run("/usr/bin/env", ["tar", "-tvf", archivePath])
        #expect(
            listing.stdout.contains(kind == "dotdot" ? "../escape.txt" : "evil/link -> \(outside)"), "\(listing.stdout)"
        )
        let archive = Blob("evil.tar", bytes: Fixtures.read(archivePath) ?? [])
        let server = try Client.blobServer([archive])
        try FileManager.default.createDirectory(atPath: job, withIntermediateDirectories: true)
        try Client.writeManifest([archive.record(unpack: true)], in: job)

        let result = try Client.run(["fetch", "--url", server.url], in: job)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let summary = try #require(lines.first { $0.hasPrefix("INFO - fetched ") }, "\(result.stderr)")
        #expect(summary.hasPrefix("INFO - fetched 1 of 1 files in "), "\(summary)")
        #expect(summary.hasSuffix(", 0 failed, 1 unpack refused"), "\(summary)")
        let errors = lines.filter { $0.hasPrefix("ERROR - ") }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(errors.first?.hasPrefix("ERROR - unpack refused: evil.tar: \(reason)") == true, "\(result.stderr)")
        #expect(
            errors.first?.hasSuffix("(evil.tar is present and verified; nothing of it was unpacked)") == true,
            "\(result.stderr)")
        #expect(!result.stderr.contains("failed to fetch"))

        #expect(Client.holds(job, "evil.tar", archive.bytes))
        let validate = try Client.run(["validate"], in: job)
        #expect(validate.status == 0, "the refused archive is present and verified: \(validate.stderr)")
        #expect(try Client.run(["list"], in: job).stdout == "P\tV\tevil.tar\n")
        #expect(!FileManager.default.fileExists(atPath: job + "/evil"), "nothing of it was unpacked")
        #expect(!FileManager.default.fileExists(atPath: top.file("escape.txt")), "nothing written outside")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty, "nothing written through the link")
        #expect(try FileManager.default.contentsOfDirectory(atPath: job).sorted() == ["evil.tar", "manifest.tt"])
    }

    @Test func unknownExtensionFails() throws {
        let blob = Blob("thing.rar", size: 100)
        let server = try Client.blobServer([blob])
        let dir = TemporaryDirectory(prefix: "unpack")
        try Client.writeManifest([blob.record(unpack: true)], in: dir.path)
        let result = try Client.run(["fetch", "--url", server.url], in: dir.path)
        #expect(result.status == 1)
        #expect(
            result.stderr.contains("ERROR - unpack failed: thing.rar: cannot unpack thing.rar: expected one of"),
            "\(result.stderr)")
        #expect(result.stderr.contains(", 0 failed, 1 unpack failed"), "\(result.stderr)")
        #expect(!result.stderr.contains("failed to fetch"))
        #expect(Client.holds(dir.path, blob.name, blob.bytes), "the file itself is in place")
    }
}

/// Builds tar files with entries `tar` itself would not make (absolute paths, `..`, devices), through Python's tarfile.
enum PythonTar {
    /// One entry.
    enum Entry: Sendable, CustomStringConvertible {
        case file(String, mode: Int)
        case symlink(String, target: String)
        case hardlink(String, target: String)
        case device(String)

        var python: String {
            switch self {
            case .file(let name, let mode):
                return
                    "i = tarfile.TarInfo(\(quoted(name))); i.mode = \(mode); i.size = 3; t.addfile(i, io.BytesIO(b'abc'))"
            case .symlink(let name, let target):
                return
                    "i = tarfile.TarInfo(\(quoted(name))); i.type = tarfile.SYMTYPE; i.linkname = \(quoted(target)); t.addfile(i)"
            case .hardlink(let name, let target):
                return
                    "i = tarfile.TarInfo(\(quoted(name))); i.type = tarfile.LNKTYPE; i.linkname = \(quoted(target)); t.addfile(i)"
            case .device(let name):
                return
                    "i = tarfile.TarInfo(\(quoted(name))); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; t.addfile(i)"
            }
        }

        var description: String { python }

        private func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "\\'") + "'" }
    }

    /// Writes a tar of `entries` at `path` and returns it as a blob.
    static func make(_ path: String, entries: [Entry]) throws -> Blob {
        let script =
            (["import io, tarfile", "t = tarfile.open(\"\(path)\", 'w', format=tarfile.GNU_FORMAT)"]
            + entries.map(\.python) + ["t.close()"]).joined(separator: "\n")
        let run = try ProcessRunner.run("/usr/bin/env", ["python3", "-c", script])
        guard run.status == 0 else { throw TestError("python3 tarfile failed: \(run.stderr)") }
        return Blob(FileSystemName.base(path), bytes: Fixtures.read(path) ?? [])
    }
}

/// File name helpers for tests.
enum FileSystemName {
    /// The last component of `path`.
    static func base(_ path: String) -> String { (path as NSString).lastPathComponent }
}
