import Foundation
import Shared
import TestSupport
import Testing

/// The cache: fills on download, serves with every server down, heals corrupt entries, is shared safely.
@Suite struct CacheTests {
    @Test func fetchFromCacheWithEveryServerDown() throws {
        let blob = Blob("a.bin", size: 50_000)
        let cache = TemporaryDirectory(prefix: "cache")
        do {
            let server = try Client.blobServer([blob])
            let first = TemporaryDirectory(prefix: "fetch")
            try Client.writeManifest([blob.record()], in: first.path)
            #expect(try Client.run(["fetch", "--url", server.url, "-c", cache.path], in: first.path).status == 0)
        }
        #expect(Client.holds(cache.path, blob.digest.hex, blob.bytes))
        let old = Date(timeIntervalSinceNow: -2 * 3600)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: cache.file(blob.digest.hex))

        let second = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest([blob.record()], in: second.path)
        let result = try Client.run(
            ["fetch", "--url", try Client.deadURL(), "--url", try Client.deadURL()],
            in: second.path, environment: ["TOOLTOOL_CACHE": cache.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Client.holds(second.path, "a.bin", blob.bytes))
        #expect(result.stderr.contains("INFO - a.bin: taken from the cache"))
        let mtime =
            try FileManager.default.attributesOfItem(atPath: cache.file(blob.digest.hex))[.modificationDate] as? Date
        #expect((mtime ?? old) > old.addingTimeInterval(60), "a hit refreshes the entry's mtime")
    }

    @Test func corruptCacheEntryIsReplaced() throws {
        let blob = Blob("a.bin", size: 30_000)
        let server = try Client.blobServer([blob])
        let cache = TemporaryDirectory(prefix: "cache")
        try Fixtures.write(Fixtures.randomBytes(30_000), to: cache.file(blob.digest.hex))
        let dir = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest([blob.record()], in: dir.path)
        let result = try Client.run(["fetch", "--url", server.url, "-c", cache.path], in: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("WARNING - cache entry"))
        #expect(result.stderr.contains("is corrupt"))
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        #expect(Client.holds(cache.path, blob.digest.hex, blob.bytes))
        #expect(server.requests.count == 1)
    }

    @Test func corruptCacheEntryWithServersDownFails() throws {
        let blob = Blob("a.bin", size: 1000)
        let cache = TemporaryDirectory(prefix: "cache")
        try Fixtures.write(Array(blob.bytes.dropLast()) + [0], to: cache.file(blob.digest.hex))
        let dir = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest([blob.record()], in: dir.path)
        let result = try Client.run(
            ["fetch", "--url", try Client.deadURL(), "--retries", "0", "-c", cache.path], in: dir.path)
        #expect(result.status == 1)
        #expect(Client.holds(dir.path, "a.bin", nil))
        #expect(Client.holds(cache.path, blob.digest.hex, nil), "the corrupt entry is removed")
    }

    @Test func twoFetchesSharingACacheAtOnce() throws {
        let blobs = (0..<8).map { Blob("f\($0).bin", size: 400_000 + $0) }
        let server = try Client.blobServer(blobs)
        let cache = TemporaryDirectory(prefix: "cache")
        let dirs = [
            TemporaryDirectory(prefix: "fetchA"), TemporaryDirectory(prefix: "fetchB"),
            TemporaryDirectory(prefix: "fetchC")
        ]
        for dir in dirs { try Client.writeManifest(blobs.map { $0.record() }, in: dir.path) }
        let processes = try dirs.map {
            try Client.start(["fetch", "-j", "4", "--url", server.url, "-c", cache.path], in: $0.path)
        }
        for process in processes { process.waitUntilExit() }
        for process in processes { #expect(process.terminationStatus == 0) }
        for dir in dirs {
            for blob in blobs { #expect(Client.holds(dir.path, blob.name, blob.bytes)) }
        }
        let stampFolder = ".verified-\(geteuid())"
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache.path)
        #expect(
            Set(entries) == Set(blobs.map(\.digest.hex) + [stampFolder]),
            "only whole entries, no temp files: \(entries)")
        for blob in blobs { #expect(Client.holds(cache.path, blob.digest.hex, blob.bytes)) }
        // Each fetch stamps what it left unchanged by the end; whatever got stamped is whole, and no temp is left.
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.file(stampFolder)) == ["stamps"])
        let table = String(decoding: Fixtures.read(cache.file(stampFolder + "/stamps")) ?? [], as: UTF8.self)
        let names = table.split(separator: "\n").map { String($0.prefix(128)) }
        #expect(Set(names).isSubset(of: blobs.map(\.digest.hex)) && Set(names).count == names.count, "\(table)")
    }

    @Test func purgeEverythingAndPurgeToFreeSpace() throws {
        let cache = TemporaryDirectory(prefix: "cache")
        for i in 0..<3 { try Fixtures.write(Fixtures.randomBytes(100), to: cache.file("entry\(i)")) }
        // Enough space is already free: nothing goes.
        let keep = try Client.run(["purge", "-c", cache.path, "-s", "0.000001"], in: cache.path)
        #expect(keep.status == 0, "\(keep.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path).count == 3)
        // More space than the disk has: everything goes, least recently used first, and it still exits 0.
        let lots = try Client.run(["purge", "-c", cache.path, "-s", "1000000000", "-v"], in: cache.path)
        #expect(lots.status == 0, "\(lots.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path).isEmpty)
        for i in 0..<3 { try Fixtures.write(Fixtures.randomBytes(100), to: cache.file("entry\(i)")) }
        let all = try Client.run(["purge"], in: cache.path, environment: ["TOOLTOOL_CACHE": cache.path])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stderr.contains("INFO - removed 3 files"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path).isEmpty)
    }
}
