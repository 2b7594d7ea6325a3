import Foundation
import Shared
import TestSupport
import Testing

/// Large bodies over TLS: a PUT streams through the TLS read path and a GET goes out in bounded `SSL_write` pieces,
/// both in bounded memory and to the last byte.
@Suite struct TLSLargeBodyTests {
    static let size = 256 << 20
    static let peakLimit = 64 << 20

    @Test(.enabled(if: !TestStore.usesS3, "the S3 store streams GETs through another path"))
    func largePutAndGetOverTLSInBoundedMemory() throws {
        let tls = try TLSHarness(tokens: ["up": [.uploadPublic]])
        let pattern = PatternStream(blockSize: 1 << 20, size: Self.size)
        let digest = pattern.digest()
        let body = tls.file("body")
        _ = FileManager.default.createFile(atPath: body, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: body))
        pattern.forEachBlock { handle.write(Data($0)) }
        try handle.close()

        let put = try tls.curl(
            [
                "-T", body, "-H", "Authorization: Bearer \(tls.harness.tokens["up"]!)", "-w", "\n%{http_code}",
                "\(tls.url)/sha512/\(digest.hex)?visibility=public"
            ], timeout: 300)
        #expect(put.stdout.hasSuffix("\n200"), "\(put.stdout) \(put.stderr)")
        try FileManager.default.removeItem(atPath: body)
        let stored = try FileDigest.compute(path: tls.harness.stored.location(digest, .public))
        #expect(stored.digest == digest)

        let out = tls.file("out")
        let get = try tls.curl(["-o", out, "-w", "%{http_code}", "\(tls.url)/sha512/\(digest.hex)"], timeout: 300)
        #expect(get.stdout == "200", "\(get.stderr)")
        let fetched = try FileDigest.compute(path: out)
        #expect(fetched.size == Int64(Self.size))
        #expect(fetched.digest == digest)
        let peak = try #require(tls.server.peakRSS())
        #expect(peak < Self.peakLimit, "peak RSS \(peak >> 20) MiB after a 256 MiB PUT and GET over TLS")
        print("256 MiB PUT and GET over TLS: server peak RSS \(peak >> 20) MiB")
    }
}
