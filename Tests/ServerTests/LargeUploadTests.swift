import Foundation
import Shared
import TestSupport
import Testing

/// A 1 GiB upload streams through the server in bounded memory.
@Suite struct LargeUploadTests {
    static let size = 1 << 30
    static let block = 1 << 20
    static let peakLimit = 64 << 20

    @Test(.enabled(if: !TestStore.usesS3, "bench/s3 measures the S3 store's memory on a 1 GiB upload"))
    func oneGibibyteUploadKeepsPeakRSSUnder64MiB() throws {
        let harness = try ServerHarness(tokens: ["up": [.uploadPublic]])
        let pattern = PatternStream(blockSize: Self.block, size: Self.size)
        let digest = pattern.digest()
        let startRSS = harness.server.peakRSS() ?? 0

        let client = try RawHTTPClient(port: harness.port, timeout: 120)
        let started = Date()
        #expect(
            client.send(
                "PUT /sha512/\(digest.hex)?visibility=public HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer \(harness.tokens["up"]!)\r\nContent-Length: \(Self.size)\r\n\r\n"))
        var sentAll = true
        pattern.forEachBlock { sentAll = sentAll && client.send($0) }
        #expect(sentAll, "the server closed the connection during the upload: \(harness.server.stderr())")
        let response = try client.readResponse()
        let seconds = Date().timeIntervalSince(started)
        let peak = try #require(harness.server.peakRSS())

        #expect(response.status == 200, "\(response.text)")
        #expect(try response.json()["result"]?["size"]?.intValue == Int64(Self.size))
        #expect(peak < Self.peakLimit, "peak RSS \(peak >> 20) MiB (at start \(startRSS >> 20) MiB)")
        let stored = try FileDigest.compute(path: harness.stored.location(digest, .public))
        #expect(stored.size == Int64(Self.size))
        #expect(stored.digest == digest)
        #expect(harness.uploadsInProgress().isEmpty)
        print(
            "1 GiB upload: \(String(format: "%.1f", seconds)) s, \(String(format: "%.0f", Double(Self.size >> 20) / seconds)) MiB/s, "
                + "server peak RSS \(peak >> 20) MiB (\(startRSS >> 20) MiB at start)")
    }
}

/// `size` bytes made of one random block, each copy stamped with its index so no two blocks are equal; produced
/// block by block so neither the test nor the server ever holds the whole body.
struct PatternStream {
    let size: Int
    private let seed: [UInt8]

    init(blockSize: Int, size: Int) {
        self.size = size
        seed = Fixtures.randomBytes(blockSize)
    }

    /// Calls `body` with each block in order.
    func forEachBlock(_ body: ([UInt8]) -> Void) {
        var offset = 0, round: UInt64 = 0
        var chunk = seed
        while offset < size {
            let count = min(seed.count, size - offset)
            if count < chunk.count { chunk = Array(seed.prefix(count)) }
            withUnsafeBytes(of: round) { stamp in for i in 0..<min(8, count) { chunk[i] = stamp[i] } }
            body(chunk)
            offset += count
            round += 1
        }
    }

    /// SHA-512 of the whole stream.
    func digest() -> Digest {
        let hasher = StreamingHasher()
        forEachBlock { hasher.update($0) }
        return hasher.finish()
    }
}
