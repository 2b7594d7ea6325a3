import Foundation
import Shared
import TestSupport
import Testing

/// Mirrors of mirrors, and many clients on one cold large blob: real servers on 127.0.0.1, real curl clients.
@Suite struct MirrorChainTests {
    @Test func aMirrorOfAMirrorServesColdAndWarmGetsRangesAndHeadsWithOneGetOnThePrimary() throws {
        let pair = try MirrorTests.Pair()  // primary <- mirror1
        let outerRoot = TemporaryDirectory(prefix: "mirror2")
        let outer = try ServerProcess(root: outerRoot.path, arguments: ["--upstream", pair.mirror.url])  // <- mirror2
        let bytes = Fixtures.randomBytes(2_500_000)
        let digest = try pair.upload(bytes)
        func get(_ method: String = "GET", headers: [(String, String)] = []) throws -> RawHTTPResponse {
            try RawHTTPClient(port: outer.port).request(method, "/sha512/\(digest.hex)", headers: headers)
        }

        let cold = try get()
        #expect(cold.status == 200)
        #expect(cold.body == bytes)
        #expect(Fixtures.read(outerRoot.file("public/sha512/\(digest.hex)")) == bytes, "mirror2 kept it")
        #expect(pair.kept(digest) == bytes, "mirror1 kept it on the way")

        let warm = try get()
        #expect(warm.status == 200)
        #expect(warm.body == bytes)
        let head = try get("HEAD")
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "2500000")
        #expect(head.header("ETag") == "\"\(digest.hex)\"")
        let range = try get(headers: [("Range", "bytes=1000000-1000099")])
        #expect(range.status == 206)
        #expect(range.header("Content-Range") == "bytes 1000000-1000099/2500000")
        #expect(range.body == Array(bytes[1_000_000..<1_000_100]))

        #expect(pair.primaryGets(digest) == 1, "the primary served one GET for the whole chain")
        let innerGets = pair.mirror.stderr().split(separator: "\n").filter {
            $0.contains(" GET /sha512/\(digest.hex) ")
        }
        #expect(innerGets.count == 1, "mirror1 served one GET: mirror2 answered the rest from its store")

        // A cold Range and a cold HEAD through the chain fetch too.
        let other = Fixtures.randomBytes(700_000)
        let otherDigest = try pair.upload(other)
        let coldRange = try RawHTTPClient(port: outer.port).request(
            "GET", "/sha512/\(otherDigest.hex)",
            headers: [("Range", "bytes=-10")])
        #expect(coldRange.status == 206)
        #expect(coldRange.body == Array(other.suffix(10)))
        let third = try pair.upload(Fixtures.randomBytes(1000))
        let coldHead = try RawHTTPClient(port: outer.port).request("HEAD", "/sha512/\(third.hex)")
        #expect(coldHead.status == 200)
        #expect(coldHead.header("Content-Length") == "1000")
        #expect(pair.primaryGets(otherDigest) == 1)
    }

    /// 50 curl clients at once on one cold 256 MiB blob: each pipes its body through `sha512sum` (nothing is held in
    /// memory), all must print the blob's digest, and the primary must have sent it once.
    @Test func fiftyConcurrentRequestsForOneCold256MiBBlobMakeOneGetOnThePrimary() throws {
        let pair = try MirrorTests.Pair()
        let work = TemporaryDirectory(prefix: "fifty")
        let file = work.file("blob")
        let digest = try Self.writeRandomFile(file, size: 256 << 20)
        let upload = try ProcessRunner.run(
            "/usr/bin/curl",
            [
                "-sS", "-f", "-o", "/dev/null", "-T", file, "-H", "Authorization: Bearer \(pair.primary.tokens["up"]!)",
                "\(pair.primary.server.url)/sha512/\(digest.hex)?visibility=public"
            ], timeout: 300)
        try #require(upload.status == 0, "upload: \(upload.stderr)")
        try FileManager.default.removeItem(atPath: file)

        let clients = 50
        let script = """
            for i in $(seq 1 \(clients)); do
              (curl -sS -f --max-time 600 "$1" | sha512sum | cut -d' ' -f1 > "$2/out.$i") &
            done
            wait
            """
        let run = try ProcessRunner.run(
            "/bin/bash", ["-c", script, "fifty", "\(pair.mirror.url)/sha512/\(digest.hex)", work.path],
            timeout: 900)
        #expect(run.status == 0, "\(run.stderr)")
        for index in 1...clients {
            let printed = (try? String(contentsOfFile: work.file("out.\(index)"), encoding: .utf8)) ?? ""
            #expect(printed.trimmingCharacters(in: .whitespacesAndNewlines) == digest.hex, "client \(index)")
        }
        #expect(pair.primaryGets(digest) == 1, "one upstream transfer for \(clients) concurrent misses")
        #expect(try pair.fetches("verified") == 1)
    }

    /// Writes `size` random bytes to `path` in 4 MiB pieces; returns their digest.
    static func writeRandomFile(_ path: String, size: Int) throws -> Digest {
        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path)
        else {
            throw CocoaError(.fileWriteUnknown)
        }
        defer { try? out.close() }
        let hasher = StreamingHasher()
        var left = size
        while left > 0 {
            let piece = Fixtures.randomBytes(min(left, 4 << 20))
            hasher.update(piece)
            try out.write(contentsOf: piece)
            left -= piece.count
        }
        return hasher.finish()
    }
}
