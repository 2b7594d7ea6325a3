import Foundation
import Shared
import TestSupport
import Testing

/// `serve --upstream ... --max-cache-size`: a real mirror in front of a real primary evicts the least recently used
/// blobs it fetched, never takes bytes from a request reading one, and fetches an evicted blob again when asked.
@Suite struct MirrorEvictionTests {
    /// A `/metrics` sample without labels, or -1.
    static func metric(_ pair: MirrorTests.Pair, _ name: String) throws -> Int64 {
        let text = try pair.get("/metrics").text
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap {
            Int64($0.dropFirst(name.count + 1))
        } ?? -1
    }

    /// GETs `digest` through the mirror and expects `bytes`.
    static func fetch(
        _ pair: MirrorTests.Pair, _ digest: Digest, _ bytes: [UInt8],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let response = try pair.get("/sha512/\(digest.hex)")
        #expect(response.status == 200, sourceLocation: sourceLocation)
        #expect(response.body == bytes, "the bytes of \(digest.hex.prefix(12))", sourceLocation: sourceLocation)
    }

    @Test func theLeastRecentlyUsedBlobIsEvictedAndFetchedAgainWhenAsked() throws {
        let size = 1_000_000
        let pair = try MirrorTests.Pair(arguments: ["--max-cache-size", "\(3 * size + size / 2)"])
        let blobs = (0..<4).map { _ in Fixtures.randomBytes(size) }
        let digests = try blobs.map { try pair.upload($0) }
        let (a, b, c, d) = (0, 1, 2, 3)

        for index in [a, b, c] { try Self.fetch(pair, digests[index], blobs[index]) }
        #expect(try Self.metric(pair, "tooltool_mirror_cache_bytes") == Int64(3 * size))
        #expect(try Self.metric(pair, "tooltool_mirror_evictions_total") == 0)
        try Self.fetch(pair, digests[a], blobs[a])  // A is now more recent than B and C
        try Self.fetch(pair, digests[d], blobs[d])  // four do not fit: B, the least recently used, goes

        #expect(pair.kept(digests[b]) == nil, "B was evicted")
        for index in [a, c, d] { #expect(pair.kept(digests[index]) == blobs[index], "blob \(index) is kept") }
        #expect(try Self.metric(pair, "tooltool_mirror_evictions_total") == 1)
        #expect(try Self.metric(pair, "tooltool_mirror_cache_bytes") == Int64(3 * size))
        #expect(pair.mirror.stderr().contains("mirror: evicted \(digests[b].hex) (\(size) bytes, least recently used)"))
        #expect(pair.primaryGets(digests[a]) == 1, "A was served from the mirror's store the second time")

        try Self.fetch(pair, digests[b], blobs[b])  // fetched again from the primary; C is the oldest now
        #expect(pair.primaryGets(digests[b]) == 2)
        #expect(pair.kept(digests[b]) == blobs[b])
        #expect(pair.kept(digests[c]) == nil, "C was evicted for B")
        #expect(try Self.metric(pair, "tooltool_mirror_evictions_total") == 2)
    }

    @Test func aBlobLargerThanTheLimitIsServedButNotKeptAndEvictsNothingElse() throws {
        let pair = try MirrorTests.Pair(arguments: ["--max-cache-size", "1M"])
        let small = Fixtures.randomBytes(300_000)
        let large = Fixtures.randomBytes(3_000_000)
        let smallDigest = try pair.upload(small)
        let largeDigest = try pair.upload(large)

        try Self.fetch(pair, smallDigest, small)
        try Self.fetch(pair, largeDigest, large)
        #expect(pair.kept(largeDigest) == nil, "a blob over the whole limit is not kept")
        #expect(pair.kept(smallDigest) == small, "and it takes nothing else out")
        #expect(pair.temporaryFiles.isEmpty)
        #expect(pair.mirror.stderr().contains("larger than --max-cache-size 1048576, served but not kept"))
        #expect(try Self.metric(pair, "tooltool_mirror_cache_bytes") == 300_000)

        try Self.fetch(pair, largeDigest, large)  // every request for it goes upstream again
        #expect(pair.primaryGets(largeDigest) == 2)
        let range = try pair.get("/sha512/\(largeDigest.hex)", headers: [("Range", "bytes=100-199")])
        #expect(range.status == 206)
        #expect(range.body == Array(large[100..<200]))
    }

    @Test func aRequestReadingABlobGetsEveryByteWhileItIsEvicted() throws {
        let size = 32 << 20  // more than the loopback socket buffers: most of it is still unsent when eviction runs
        let pair = try MirrorTests.Pair(arguments: ["--max-cache-size", "\(size + size / 4)"])
        let a = Fixtures.randomBytes(size)
        let b = Fixtures.randomBytes(size / 2)
        let aDigest = try pair.upload(a)
        let bDigest = try pair.upload(b)
        try Self.fetch(pair, aDigest, a)

        // Two slow readers of A, a whole GET and a Range: they send their requests and read nothing yet.
        let whole = try RawHTTPClient(port: pair.mirror.port, timeout: 60)
        let partial = try RawHTTPClient(port: pair.mirror.port, timeout: 60)
        #expect(whole.send("GET /sha512/\(aDigest.hex) HTTP/1.1\r\nHost: t\r\n\r\n"))
        #expect(partial.send("GET /sha512/\(aDigest.hex) HTTP/1.1\r\nHost: t\r\nRange: bytes=1000-\r\n\r\n"))
        #expect(whole.hasInput(within: 30))
        #expect(partial.hasInput(within: 30))

        // B does not fit beside A: A, read by both but used before B, is evicted under them.
        try Self.fetch(pair, bDigest, b)
        #expect(pair.kept(aDigest) == nil, "A was evicted while being read")
        #expect(try Self.metric(pair, "tooltool_mirror_evictions_total") == 1)

        let wholeResponse = try whole.readResponse()
        #expect(wholeResponse.status == 200)
        #expect(wholeResponse.body.count == size)
        #expect(wholeResponse.body == a, "the reader that opened A got all of it")
        let partialResponse = try partial.readResponse()
        #expect(partialResponse.status == 206)
        #expect(partialResponse.body == Array(a[1000...]))

        try Self.fetch(pair, aDigest, a)  // asked again: fetched again
        #expect(pair.primaryGets(aDigest) == 2)
    }

    @Test func maxCacheSizeTakesSuffixesAndNeedsUpstream() throws {
        let alone = try ServerCommandLine.run(
            ["serve", "--root", "/nonexistent", "--max-cache-size", "10G"], timeout: 30)
        #expect(alone.status != 0)
        #expect(alone.stderr.contains("--max-cache-size needs --upstream"))
        let bad = try ServerCommandLine.run(
            [
                "serve", "--root", "/nonexistent", "--upstream", "http://127.0.0.1:1",
                "--max-cache-size", "10X"
            ], timeout: 30)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--max-cache-size"))
    }
}

extension MirrorEvictionTests {
    @Test func atStartTheCacheIsRebuiltFromTheFilesTimesAndShrinksToALoweredLimit() throws {
        let size = 1_000_000
        let pair = try MirrorTests.Pair()
        let blobs = (0..<3).map { _ in Fixtures.randomBytes(size) }
        let digests = try blobs.map { try pair.upload($0) }
        for (digest, bytes) in zip(digests, blobs) { try Self.fetch(pair, digest, bytes) }
        #expect(try Self.metric(pair, "tooltool_mirror_cache_bytes") == Int64(3 * size))
        _ = pair.mirror.stop()
        // Used longest ago first: blob 1, then 0, then 2 (access and modification times both).
        for (index, date) in [(1, "2020-01-01"), (0, "2021-01-01"), (2, "2022-01-01")] {
            let touched = try ProcessRunner.run(
                "/usr/bin/touch", ["-d", date, pair.mirrorRoot.file("public/sha512/\(digests[index].hex)")])
            try #require(touched.status == 0)
        }

        let restarted = try ServerProcess(
            root: pair.mirrorRoot.path,
            arguments: [
                "--upstream", pair.primary.server.url,
                "--max-cache-size", "\(2 * size + size / 2)"
            ])
        #expect(pair.kept(digests[1]) == nil, "the least recently used went before the server served")
        #expect(pair.kept(digests[0]) == blobs[0])
        #expect(pair.kept(digests[2]) == blobs[2])
        let metrics = try RawHTTPClient(port: restarted.port).request("GET", "/metrics").text
        #expect(metrics.contains("\ntooltool_mirror_cache_bytes \(2 * size)\n"))
        #expect(metrics.contains("\ntooltool_mirror_evictions_total 1\n"))
        let again = try RawHTTPClient(port: restarted.port).request("GET", "/sha512/\(digests[1].hex)")
        #expect(again.status == 200)
        #expect(again.body == blobs[1])
        #expect(pair.primaryGets(digests[1]) == 2, "fetched again from the primary")
    }
}
