import Foundation
import Shared
import TestSupport
import Testing

/// Verification stamps (issue 6; one table per user since issue 17): a warm fetch trusts an earlier verification instead of hashing every hit, and
/// still catches a changed entry. Against the real `tooltool-server` and the real `tooltool`.
@Suite(.enabled(if: ServerBinary.implemented, "tooltool-server still reports \"not implemented yet\""))
struct CacheStampTests {
    /// A real server holding `blobs`, a cache, and a work folder with their manifest.
    final class Setup {
        let blobs: [Blob]
        let root = TemporaryDirectory(prefix: "server")
        let cache = TemporaryDirectory(prefix: "cache")
        let work = TemporaryDirectory(prefix: "fetch")
        let server: ServerProcess

        init(_ blobs: [Blob]) throws {
            self.blobs = blobs
            for blob in blobs { try Fixtures.write(blob.bytes, to: root.file("public/sha512/\(blob.digest.hex)")) }
            server = try ServerProcess(root: root.path)
            try Client.writeManifest(blobs.map { $0.record() }, in: work.path)
        }

        deinit { server.stop() }

        /// `tooltool fetch -v --url SERVER -c CACHE extra...` in the work folder.
        func fetch(_ extra: [String] = []) throws -> ProcessResult {
            try Client.run(["fetch", "-v", "--url", server.url, "-c", cache.path] + extra, in: work.path)
        }

        /// Removes the fetched files, as a job that cleans its workspace does.
        func removeTargets() {
            for blob in blobs { unlink(work.file(blob.name)) }
        }

        /// The cache entry of `blob`.
        func entry(_ blob: Blob) -> String { cache.file(blob.digest.hex) }

        /// This user's stamp folder.
        var stampFolder: String { cache.file(".verified-\(geteuid())") }

        /// This user's stamp table: one line per entry, `HEXDIGEST STAMP`.
        var stampFile: String { stampFolder + "/stamps" }

        /// The table's stamps by hex digest (each with its newline); empty when there is no table.
        func stamps() -> [String: String] {
            let text = Fixtures.read(stampFile).map { String(decoding: $0, as: UTF8.self) } ?? ""
            var table: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1)
                if parts.count == 2 { table[String(parts[0])] = String(parts[1]) + "\n" }
            }
            return table
        }

        /// The stamp of `blob`'s entry, nil when it has none.
        func stamp(_ blob: Blob) -> String? { stamps()[blob.digest.hex] }

        /// Replaces `blob`'s stamp with `text`: each of its lines, named by the digest, in place of the line the
        /// table had for it (a text of two lines gives the entry two lines; one without a last newline ends the file).
        func forgeStamp(_ blob: Blob, _ text: String) throws {
            let name = blob.digest.hex
            let old = Fixtures.read(stampFile).map { String(decoding: $0, as: UTF8.self) } ?? ""
            var lines = old.split(separator: "\n").filter { !$0.hasPrefix(name) }.map { $0 + "\n" }
            var pieces = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let unterminated = pieces.last.map { !$0.isEmpty } ?? false
            if !unterminated { pieces.removeLast() }
            if pieces.isEmpty { pieces = [""] }
            for (index, piece) in pieces.enumerated() {
                lines.append(name + " " + piece + (unterminated && index == pieces.count - 1 ? "" : "\n"))
            }
            try Fixtures.write(Array(lines.joined().utf8), to: stampFile)
        }

        /// Removes `blob`'s stamp from the table.
        func removeStamp(_ blob: Blob) throws {
            let old = Fixtures.read(stampFile).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let lines = old.split(separator: "\n").filter { !$0.hasPrefix(blob.digest.hex) }.map { $0 + "\n" }
            try Fixtures.write(Array(lines.joined().utf8), to: stampFile)
        }
    }

    /// `lstat`, failing the test when it fails.
    static func status(_ path: String) throws -> stat {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw TestError("lstat \(path): errno \(errno)") }
        return info
    }

    /// The stamp a fetch would write for the file at `path` as it is now (the documented format).
    static func stampText(for path: String) throws -> String {
        let info = try status(path)
        return "v1 \(info.st_dev) \(info.st_ino) \(info.st_size) \(info.st_mtim.tv_sec) \(info.st_mtim.tv_nsec) "
            + "\(info.st_ctim.tv_sec) \(info.st_ctim.tv_nsec) \(info.st_nlink)\n"
    }

    /// Flips one byte of the file at `path` in place (same inode, same size); with `keepingMtime`, then puts its
    /// mtime back as it was, so only the ctime tells.
    static func corruptInPlace(_ path: String, keepingMtime: Bool) throws {
        let before = try status(path)
        let fd = open(path, O_RDWR)
        guard fd >= 0 else { throw TestError("open \(path): errno \(errno)") }
        var byte: UInt8 = 0
        guard pread(fd, &byte, 1, 100) == 1 else { close(fd); throw TestError("pread") }
        byte ^= 0xff
        guard pwrite(fd, &byte, 1, 100) == 1 else { close(fd); throw TestError("pwrite") }
        close(fd)
        if keepingMtime {
            var times = [before.st_atim, before.st_mtim]
            guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw TestError("utimensat: errno \(errno)") }
        }
        let after = try status(path)
        #expect(after.st_ino == before.st_ino && after.st_size == before.st_size, "changed in place")
        if keepingMtime {
            #expect(after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec)
        }
    }

    @Test func aWarmFetchTrustsTheStampInsteadOfHashing() throws {
        let blob = Blob("a.bin", size: 200_000)
        let setup = try Setup([blob])
        let cold = try setup.fetch()
        #expect(cold.status == 0, "\(cold.stderr)")
        #expect(cold.stderr.contains("wrote 1 verification stamp(s)"), "a download is stamped: \(cold.stderr)")
        #expect(try Self.status(setup.stampFolder).st_mode & 0o7777 == 0o700)
        for run in 0..<2 {
            setup.removeTargets()
            let warm = try setup.fetch()
            #expect(warm.status == 0, "\(warm.stderr)")
            #expect(
                warm.stderr.contains("DEBUG - a.bin: trusted the cache's verification stamp"),
                "run \(run): \(warm.stderr)")
            #expect(!warm.stderr.contains("hashing the cache entry"), "run \(run): \(warm.stderr)")
            #expect(warm.stderr.contains("INFO - a.bin: taken from the cache"))
            #expect(Client.holds(setup.work.path, "a.bin", blob.bytes))
        }
    }

    @Test func anInPlaceChangeWithTheOldMtimePutBackIsCaughtByTheCtime() throws {
        let blob = Blob("a.bin", size: 100_000)
        let setup = try Setup([blob])
        #expect(try setup.fetch().status == 0)
        setup.removeTargets()
        #expect(try setup.fetch().stderr.contains("trusted the cache's verification stamp"))
        // The target is a hard link to the entry, so this is also an in-place edit of the target.
        try Self.corruptInPlace(setup.entry(blob), keepingMtime: true)
        let result = try setup.fetch()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("a.bin: hashing the cache entry (stamp out of date: ctime differs)"),
            "\(result.stderr)")
        #expect(result.stderr.contains("WARNING - cache entry \(setup.entry(blob)) is corrupt"), "\(result.stderr)")
        #expect(result.stderr.contains("INFO - a.bin: downloaded from"))
        #expect(Client.holds(setup.work.path, "a.bin", blob.bytes))
        #expect(Client.holds(setup.cache.path, blob.digest.hex, blob.bytes))
    }

    @Test func anInPlaceChangeAfterTheTargetWasRemovedIsCaughtByTheMtime() throws {
        let blob = Blob("a.bin", size: 100_000)
        let setup = try Setup([blob])
        #expect(try setup.fetch().status == 0)
        setup.removeTargets()
        try Self.corruptInPlace(setup.entry(blob), keepingMtime: false)
        let result = try setup.fetch()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("a.bin: hashing the cache entry (stamp out of date: mtime differs)"),
            "\(result.stderr)")
        #expect(result.stderr.contains("is corrupt"))
        #expect(Client.holds(setup.work.path, "a.bin", blob.bytes))
        #expect(Client.holds(setup.cache.path, blob.digest.hex, blob.bytes))
    }

    @Test func anotherUsersEntryGetsNoLinkCountException() throws {
        guard geteuid() == 0 else { return }  // chown needs root
        let blob = Blob("a.bin", size: 50_000)
        let setup = try Setup([blob])
        #expect(try setup.fetch().status == 0)
        #expect(chown(setup.entry(blob), 65534, 65534) == 0)
        try setup.removeStamp(blob)
        setup.removeTargets()
        #expect(try setup.fetch().status == 0)  // hashes (no stamp), then stamps the entry as it is now
        setup.removeTargets()  // the link count goes down and the ctime moves
        let result = try setup.fetch()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("a.bin: hashing the cache entry (stamp out of date: ctime differs)"),
            "\(result.stderr)")
        #expect(Client.holds(setup.work.path, "a.bin", blob.bytes))
    }

    @Test func verifyCacheHashesEveryHitAndStampsAgain() throws {
        let blob = Blob("a.bin", size: 100_000)
        let setup = try Setup([blob])
        #expect(try setup.fetch().status == 0)
        setup.removeTargets()
        // A stamp that vouches for changed bytes (which no fetch writes): only a real hash can tell.
        try Self.corruptInPlace(setup.entry(blob), keepingMtime: false)
        try setup.forgeStamp(blob, try Self.stampText(for: setup.entry(blob)))
        let result = try setup.fetch(["--verify-cache"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("DEBUG - a.bin: hashing the cache entry (--verify-cache)"), "\(result.stderr)")
        #expect(result.stderr.contains("is corrupt"), "\(result.stderr)")
        #expect(Client.holds(setup.work.path, "a.bin", blob.bytes))
        // A valid hit under --verify-cache is hashed too, and stamped again for the next fetch.
        setup.removeTargets()
        let again = try setup.fetch(["--verify-cache"])
        #expect(again.stderr.contains("a.bin: hashing the cache entry (--verify-cache)"), "\(again.stderr)")
        #expect(again.stderr.contains("INFO - a.bin: taken from the cache"))
        setup.removeTargets()
        #expect(try setup.fetch().stderr.contains("a.bin: trusted the cache's verification stamp"))
        #expect(Client.holds(setup.work.path, "a.bin", blob.bytes))
    }

    /// Forges a stamp for a corrupted entry, makes the stamp folder untrustworthy with `spoil`, and checks the
    /// fetch ignores the stamps (saying `why`) and so catches the corruption.
    private func untrustedStampFolderIsIgnored(why: String, _ spoil: (Setup) throws -> Void) throws {
        let blob = Blob("a.bin", size: 80_000)
        let setup = try Setup([blob])
        #expect(try setup.fetch().status == 0)
        setup.removeTargets()
        try Self.corruptInPlace(setup.entry(blob), keepingMtime: false)
        try setup.forgeStamp(blob, try Self.stampText(for: setup.entry(blob)))
        try spoil(setup)
        let result = try setup.fetch()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("DEBUG - ignoring verification stamps: "), "\(result.stderr)")
        #expect(result.stderr.contains(why), "\(result.stderr)")
        #expect(!result.stderr.contains("trusted the cache's verification stamp"))
        #expect(result.stderr.contains("is corrupt"), "\(result.stderr)")
        #expect(Client.holds(setup.work.path, "a.bin", blob.bytes))
    }

    @Test func aStampFolderOthersCanWriteIsIgnored() throws {
        try untrustedStampFolderIsIgnored(why: "has mode 0777, expected no permission for group or others") {
            #expect(chmod($0.stampFolder, 0o777) == 0)
        }
        try untrustedStampFolderIsIgnored(why: "has mode 0750") { #expect(chmod($0.stampFolder, 0o750) == 0) }
    }

    @Test func aStampFolderOwnedBySomeoneElseIsIgnored() throws {
        guard geteuid() == 0 else { return }  // chown needs root
        try untrustedStampFolderIsIgnored(why: "is owned by uid 65534, not by uid 0") {
            #expect(chown($0.stampFolder, 65534, 65534) == 0)
        }
    }

    @Test func aSymlinkInPlaceOfTheStampFolderIsNotFollowed() throws {
        let elsewhere = TemporaryDirectory(prefix: "stamps")
        try untrustedStampFolderIsIgnored(why: "cannot open folder") { setup in
            #expect(chmod(elsewhere.path, 0o700) == 0)
            for name in try FileManager.default.contentsOfDirectory(atPath: setup.stampFolder) {
                try FileManager.default.moveItem(atPath: setup.stampFolder + "/" + name, toPath: elsewhere.file(name))
            }
            try FileManager.default.removeItem(atPath: setup.stampFolder)
            try FileManager.default.createSymbolicLink(atPath: setup.stampFolder, withDestinationPath: elsewhere.path)
        }
    }

    @Test func aGarbledStampIsIgnored() throws {
        let blob = Blob("a.bin", size: 60_000)
        let setup = try Setup([blob])
        #expect(try setup.fetch().status == 0)
        // Each is a stamp that would vouch for the corrupted entry, spoiled one way: a lenient reader that took
        // any of them would let the changed bytes through.
        let spoilers: [(String) -> String] = [
            { $0.replacingOccurrences(of: "v1 ", with: "v2 ") },
            { String($0.dropLast()) },
            { $0.replacingOccurrences(of: "\n", with: "\r\n") },
            { String($0.dropLast()) + " 7\n" },
            { $0.replacingOccurrences(of: " ", with: "  ") },
            { "v1 +" + $0.dropFirst(3) },
            { "v1 0" + $0.dropFirst(3) },
            { $0 + $0 },
            { _ in "" },
            { _ in String(repeating: "v1 1 2 3 4 5 6 7 8\n", count: 20) }
        ]
        for (index, spoil) in spoilers.enumerated() {
            setup.removeTargets()
            try Self.corruptInPlace(setup.entry(blob), keepingMtime: true)
            try setup.forgeStamp(blob, spoil(try Self.stampText(for: setup.entry(blob))))
            let result = try setup.fetch()
            #expect(result.status == 0, "\(index): \(result.stderr)")
            #expect(
                result.stderr.contains("a.bin: hashing the cache entry (its stamp is not a valid stamp)"),
                "\(index): \(result.stderr)")
            #expect(result.stderr.contains("is corrupt"), "\(index): \(result.stderr)")
            #expect(Client.holds(setup.work.path, "a.bin", blob.bytes), "\(index)")
        }
        // A folder where the stamp table should be: unreadable, and it cannot be replaced; the fetch works all the same.
        setup.removeTargets()
        try FileManager.default.removeItem(atPath: setup.stampFile)
        try FileManager.default.createDirectory(atPath: setup.stampFile, withIntermediateDirectories: false)
        let result = try setup.fetch()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("a.bin: hashing the cache entry (cannot read its stamp: "), "\(result.stderr)")
        #expect(result.stderr.contains("cannot write a verification stamp"), "\(result.stderr)")
        #expect(Client.holds(setup.work.path, "a.bin", blob.bytes))
    }

    @Test func purgeRemovesStamps() throws {
        let blobs = (0..<3).map { Blob("f\($0).bin", size: 20_000 + $0) }
        let setup = try Setup(blobs)
        #expect(try setup.fetch().status == 0)
        let stamps = { setup.stamps().keys.sorted() }
        #expect(stamps() == blobs.map(\.digest.hex).sorted())
        // A stamp whose entry was removed by hand; a per-entry stamp file, as fetches wrote them before the table;
        // and a stamp temp file a killed fetch left.
        try setup.forgeStamp(Blob("gone", size: 10), "v1 1 2 3 4 5 6 7 1\n")
        #expect(stamps().count == 4)
        try Fixtures.write(
            Array("v1 1 2 3 4 5 6 7 1\n".utf8), to: setup.stampFolder + "/" + String(repeating: "ab", count: 64))
        try Fixtures.write([], to: setup.stampFolder + "/.x.1.abc.tmp")

        // LRU purge asking for more space than the disk has: every entry goes, and with them every stamp.
        let lru = try Client.run(["purge", "-v", "-c", setup.cache.path, "-s", "1000000000"], in: setup.work.path)
        #expect(lru.status == 0, "\(lru.stderr)")
        #expect(lru.stderr.contains("removed 3 files"), "the stamp folder is not an entry: \(lru.stderr)")
        #expect(stamps() == [], "\(lru.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.stampFolder) == ["stamps"], "\(lru.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.cache.path) == [".verified-\(geteuid())"])

        setup.removeTargets()
        #expect(try setup.fetch().status == 0)
        #expect(stamps().count == 3)
        let full = try Client.run(["purge", "-c", setup.cache.path], in: setup.work.path)
        #expect(full.status == 0, "\(full.stderr)")
        #expect(full.stderr.contains("INFO - removed 3 files"), "\(full.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.cache.path).isEmpty)
    }
}
