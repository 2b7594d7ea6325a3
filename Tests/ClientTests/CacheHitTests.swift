import Foundation
import Shared
import TestSupport
import Testing

/// What a cache hit does to the cache (issue 17): a link, and nothing else that the next fetch would pay for.
/// Against the real `tooltool-server` and the real `tooltool`.
@Suite(.enabled(if: ServerBinary.implemented, "tooltool-server still reports \"not implemented yet\""))
struct CacheHitTests {
    typealias Setup = CacheStampTests.Setup

    /// `lstat`, failing the test when it fails.
    static func status(_ path: String) throws -> stat { try CacheStampTests.status(path) }

    /// Sets the mtime (and atime) of `path` to `secondsAgo` seconds before now.
    static func age(_ path: String, by secondsAgo: Int) throws {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var times = [
            timespec(tv_sec: now.tv_sec - secondsAgo, tv_nsec: 0), timespec(tv_sec: now.tv_sec - secondsAgo, tv_nsec: 0)
        ]
        guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw TestError("utimensat \(path): errno \(errno)") }
    }

    @Test func aHitLinksTheEntryAndLeavesItsMtimeAndStampAlone() throws {
        let blobs = (0..<3).map { Blob("f\($0).bin", size: 16_384 + $0) }
        let setup = try Setup(blobs)
        #expect(try setup.fetch().status == 0)
        let before = try blobs.map { try Self.status(setup.entry($0)) }
        let table = try Self.status(setup.stampFile)
        let stamps = setup.stamps()
        #expect(stamps.count == 3, "every download is stamped")
        setup.server.stop()  // every file must come from the cache
        for run in 0..<3 {
            setup.removeTargets()
            let warm = try setup.fetch()
            #expect(warm.status == 0, "run \(run): \(warm.stderr)")
            #expect(warm.stderr.contains("3 from the cache"), "run \(run): \(warm.stderr)")
            #expect(
                !warm.stderr.contains("hashing the cache entry"), "run \(run): the stamps still vouch: \(warm.stderr)")
            for (index, blob) in blobs.enumerated() {
                #expect(Client.holds(setup.work.path, blob.name, blob.bytes))
                let entry = try Self.status(setup.entry(blob))
                let target = try Self.status(setup.work.file(blob.name))
                #expect(target.st_ino == entry.st_ino, "the target is a hard link to the entry")
                #expect(
                    entry.st_mtim.tv_sec == before[index].st_mtim.tv_sec
                        && entry.st_mtim.tv_nsec == before[index].st_mtim.tv_nsec,
                    "run \(run): an entry used within the hour keeps its mtime")
            }
            #expect(
                try Self.status(setup.stampFile).st_ino == table.st_ino && setup.stamps() == stamps,
                "run \(run): stamps that still vouch are not written again")
        }
    }

    @Test func aHitOnAnEntryUnusedForAnHourRefreshesItsMtimeAndStamp() throws {
        let blob = Blob("a.bin", size: 20_000)
        let setup = try Setup([blob])
        #expect(try setup.fetch().status == 0)
        setup.removeTargets()
        try Self.age(setup.entry(blob), by: 2 * 3600)
        // The stamp a fetch would have written for the entry as it is now, so the hit is trusted, not hashed.
        try setup.forgeStamp(blob, try CacheStampTests.stampText(for: setup.entry(blob)))
        let warm = try setup.fetch()
        #expect(warm.status == 0, "\(warm.stderr)")
        #expect(warm.stderr.contains("a.bin: trusted the cache's verification stamp"), "\(warm.stderr)")
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        #expect(now.tv_sec - (try Self.status(setup.entry(blob))).st_mtim.tv_sec < 600, "the hit refreshed the mtime")
        #expect(
            setup.stamp(blob) == (try CacheStampTests.stampText(for: setup.entry(blob))), "the new mtime is stamped")
        setup.removeTargets()
        let again = try setup.fetch()
        #expect(again.stderr.contains("a.bin: trusted the cache's verification stamp"), "\(again.stderr)")
        #expect(Client.holds(setup.work.path, "a.bin", blob.bytes))
    }

    @Test func anEntryReplacedByOtherBytesIsRefetchedFromTheServer() throws {
        let blobs = [Blob("a.bin", size: 16_384), Blob("b.bin", size: 16_384)]
        let setup = try Setup(blobs)
        #expect(try setup.fetch().status == 0)
        setup.removeTargets()
        // Another file of the same size under a's name (a new inode), as a careless copy into the cache leaves.
        let entry = setup.entry(blobs[0])
        try Fixtures.write(Fixtures.randomBytes(16_384), to: entry + ".new")
        #expect(rename(entry + ".new", entry) == 0)
        let result = try setup.fetch()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("a.bin: hashing the cache entry (stamp out of date: another file"),
            "\(result.stderr)")
        #expect(result.stderr.contains("WARNING - cache entry \(entry) is corrupt"), "\(result.stderr)")
        #expect(result.stderr.contains("INFO - a.bin: downloaded from \(setup.server.url)"), "\(result.stderr)")
        #expect(result.stderr.contains("INFO - b.bin: taken from the cache"), "\(result.stderr)")
        for blob in blobs {
            #expect(Client.holds(setup.work.path, blob.name, blob.bytes))
            #expect(Client.holds(setup.cache.path, blob.digest.hex, blob.bytes))
        }
        // The replacement entry is stamped: the next fetch trusts it.
        setup.removeTargets()
        let again = try setup.fetch()
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("a.bin: trusted the cache's verification stamp"), "\(again.stderr)")
        #expect(again.stderr.contains("2 from the cache"), "\(again.stderr)")
    }

    @Test func anInvalidTargetIsReplacedFromTheCache() throws {
        let blob = Blob("a.bin", size: 16_384)
        let setup = try Setup([blob])
        #expect(try setup.fetch().status == 0)
        setup.removeTargets()
        try Fixtures.write(Array("not the file".utf8), to: setup.work.file("a.bin"))
        setup.server.stop()
        let result = try setup.fetch()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("a.bin is not valid (size is 12 bytes"), "\(result.stderr)")
        #expect(result.stderr.contains("INFO - a.bin: taken from the cache"), "\(result.stderr)")
        #expect(Client.holds(setup.work.path, "a.bin", blob.bytes))
        #expect(try Self.status(setup.work.file("a.bin")).st_ino == (try Self.status(setup.entry(blob))).st_ino)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: setup.work.path).sorted() == ["a.bin", "manifest.tt"],
            "no temp file left")
    }

    /// System calls of `tooltool fetch` (without `-v`) in the setup's work folder, under `strace -f -c`, by name;
    /// futex calls are left out: they count lock contention between the workers, which depends on timing.
    static func systemCalls(_ setup: Setup, files: [String]) throws -> [String: Int] {
        let report = setup.work.file("strace.txt")
        let result = try ProcessRunner.run(
            "/usr/bin/strace",
            [
                "-f", "-c", "-o", report, Binaries.client, "fetch", "--url",
                setup.server.url, "-c", setup.cache.path
            ] + files,
            directory: setup.work.path, environment: Client.environment, timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let text = String(decoding: Fixtures.read(report) ?? [], as: UTF8.self)
        unlink(report)
        var calls: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 5, Double(fields[0]) != nil, let count = Int(fields[3]), let name = fields.last,
                name != "total", name != "futex"
            else { continue }
            calls[String(name)] = count
        }
        #expect(!calls.isEmpty, "strace reported nothing: \(text)")
        return calls
    }

    @Test func aCacheHitCostsAtMostFiveSystemCalls() throws {
        let blobs = (0..<200).map { Blob("f\($0).bin", size: 1024 + $0) }
        let setup = try Setup(blobs)
        #expect(try setup.fetch().status == 0)
        setup.removeTargets()
        #expect(try setup.fetch().status == 0, "a first warm fetch, so both runs below are alike")
        // The difference between fetching 200 hits and 100 hits leaves out what every fetch pays once.
        setup.removeTargets()
        let all = try Self.systemCalls(setup, files: [])
        setup.removeTargets()
        let half = try Self.systemCalls(setup, files: blobs.prefix(100).map(\.name))
        for blob in blobs.prefix(100) { #expect(Client.holds(setup.work.path, blob.name, blob.bytes)) }
        let extra = all.merging(half.mapValues { -$0 }) { $0 + $1 }.filter { $0.value != 0 }
        let perHit = Double(extra.values.reduce(0, +)) / 100
        #expect(perHit <= 5, "\(perHit) system calls per hit: \(extra.sorted { $0.value > $1.value })")
    }
}
