import Foundation
import Shared
import Synchronization
import TestSupport
import Testing

/// `serve --upstream`: a real mirror in front of a real primary (or a test double for the faults a primary never
/// commits), driven over HTTP by a raw client and by curl.
@Suite struct MirrorTests {
    /// A primary (a `ServerHarness`, any store) and a mirror on the disk store in front of it.
    final class Pair {
        let primary: ServerHarness
        let mirrorRoot = TemporaryDirectory(prefix: "mirror")
        let mirror: ServerProcess

        /// `upstreams` goes before the primary's URL in the mirror's `--upstream` list.
        init(upstreams: [String] = [], primaryLast: Bool = true, arguments: [String] = []) throws {
            primary = try ServerHarness(tokens: ["up": [.uploadPublic, .uploadInternal]])
            let list = upstreams + (primaryLast ? [primary.server.url] : [])
            mirror = try ServerProcess(
                root: mirrorRoot.path, arguments: list.flatMap { ["--upstream", $0] } + arguments)
        }

        /// Uploads `bytes` to the primary.
        func upload(_ bytes: [UInt8], visibility: String = "public") throws -> Digest {
            let response = try primary.put(bytes, visibility: visibility, user: "up")
            try #require(response.status == 200, "upload: \(response.text)")
            return Fixtures.digest(bytes)
        }

        /// One request to the mirror on a fresh connection.
        func get(_ target: String, method: String = "GET", headers: [(String, String)] = []) throws -> RawHTTPResponse {
            try RawHTTPClient(port: mirror.port).request(method, target, headers: headers)
        }

        /// The mirror's copy of a public blob, if it kept one.
        func kept(_ digest: Digest) -> [UInt8]? { Fixtures.read(mirrorRoot.file("public/sha512/\(digest.hex)")) }

        /// Files left in the mirror's temp folder.
        var temporaryFiles: [String] {
            (try? FileManager.default.contentsOfDirectory(atPath: mirrorRoot.file(".tmp"))) ?? []
        }

        /// How many GETs of `digest` the primary's access log shows.
        func primaryGets(_ digest: Digest) -> Int {
            primary.server.stderr().split(separator: "\n").filter { $0.contains(" GET /sha512/\(digest.hex) ") }.count
        }

        /// The mirror's `/metrics` sample for `tooltool_mirror_fetches_total{outcome}`.
        func fetches(_ outcome: String) throws -> Int {
            let text = try get("/metrics").text
            let prefix = "tooltool_mirror_fetches_total{outcome=\"\(outcome)\"} "
            return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap {
                Int($0.dropFirst(prefix.count))
            } ?? -1
        }
    }

    /// curl's exit code and the number of body bytes it got, for a GET of the mirror.
    static func curl(_ url: String) throws -> (exit: Int32, status: String, bytes: Int) {
        let result = try ProcessRunner.run(
            "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url],
            timeout: 60)
        let parts = result.stdout.split(separator: " ")
        return (result.status, parts.first.map(String.init) ?? "", parts.count > 1 ? Int(parts[1]) ?? -1 : -1)
    }

    @Test func coldThenWarmGetHeadAndRangeAreServedAndTheBlobIsKeptOnce() throws {
        let pair = try Pair()
        let bytes = Fixtures.randomBytes(3_000_000)
        let digest = try pair.upload(bytes)

        let cold = try pair.get("/sha512/\(digest.hex)")
        #expect(cold.status == 200)
        #expect(cold.body == bytes)
        #expect(cold.header("ETag") == "\"\(digest.hex)\"")
        #expect(cold.header("Cache-Control") == "public, max-age=31536000, immutable")
        #expect(pair.kept(digest) == bytes, "the verified blob is kept under its final name")
        #expect(pair.temporaryFiles.isEmpty)

        let warm = try pair.get("/sha512/\(digest.hex)")
        #expect(warm.status == 200)
        #expect(warm.body == bytes)
        let head = try pair.get("/sha512/\(digest.hex)", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "3000000")
        let range = try pair.get("/sha512/\(digest.hex)", headers: [("Range", "bytes=1000-1999")])
        #expect(range.status == 206)
        #expect(range.header("Content-Range") == "bytes 1000-1999/3000000")
        #expect(range.body == Array(bytes[1000...1999]))
        #expect(pair.primaryGets(digest) == 1, "the warm requests never reached the primary")
        #expect(try pair.fetches("verified") == 1)
    }

    @Test func coldHeadAndColdRangeFetchTheBlobAndAnswerFromIt() throws {
        let pair = try Pair()
        let bytes = Fixtures.randomBytes(700_000)
        let digest = try pair.upload(bytes)
        let head = try pair.get("/sha512/\(digest.hex)", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "700000")

        let other = Fixtures.randomBytes(500_000)
        let otherDigest = try pair.upload(other)
        let range = try pair.get("/sha512/\(otherDigest.hex)", headers: [("Range", "bytes=-100")])
        #expect(range.status == 206)
        #expect(range.body == Array(other.suffix(100)))

        // The HEAD's transfer went on to the end: the blob is kept (bounded wait, the commit runs after the answer).
        let deadline = Date().addingTimeInterval(20)
        while pair.kept(digest) == nil, Date() < deadline { usleep(50_000) }
        #expect(pair.kept(digest) == bytes)
        #expect(pair.kept(otherDigest) == other)
    }

    @Test func aMissingBlobIs404AndAPvtOneAskedWithoutATokenIsTheUpstreams401() throws {
        let pair = try Pair()
        let missing = Fixtures.digest(Fixtures.randomBytes(10))
        expectError(try pair.get("/sha512/\(missing.hex)"), 404, .notFound)
        let secret = Fixtures.randomBytes(4000)
        let digest = try pair.upload(secret, visibility: "internal")
        let response = try pair.get("/sha512/\(digest.hex)")
        expectError(response, 401, .unauthorized)
        #expect(pair.kept(digest) == nil)
        #expect(!FileManager.default.fileExists(atPath: pair.mirrorRoot.file("pvt/sha512/\(digest.hex)")))
        #expect(try pair.fetches("not_found") == 1)
        #expect(try pair.fetches("denied") == 1)
    }

    @Test func wrongBytesFromTheUpstreamCutTheClientShortAndAreNotKept() throws {
        let size = 2_000_000
        let double = try UpstreamDouble(.wrong, size: size)
        // The double first, then the real primary: the next request after the mismatch asks the primary first.
        let pair = try Pair(upstreams: [double.url])
        let bytes = Fixtures.randomBytes(size)
        let digest = try pair.upload(bytes)

        let first = try Self.curl("\(pair.mirror.url)/sha512/\(digest.hex)")
        #expect(first.exit == 18, "curl: transfer closed with outstanding read data remaining")
        #expect(first.status == "200")
        #expect(first.bytes < size, "the client never gets a whole body of wrong bytes")
        #expect(pair.kept(digest) == nil)
        #expect(pair.temporaryFiles.isEmpty)
        #expect(try pair.fetches("mismatch") == 1)
        #expect(pair.mirror.stderr().contains("nothing kept"))

        let second = try pair.get("/sha512/\(digest.hex)")
        #expect(second.status == 200)
        #expect(second.body == bytes)
        #expect(pair.kept(digest) == bytes)
    }

    @Test func aTransferCutMidBodyCutsTheClientAndIsNotKept() throws {
        let size = 2_000_000
        let double = try UpstreamDouble(.cut, size: size)
        let pair = try Pair(upstreams: [double.url], primaryLast: false)
        let digest = Fixtures.digest(Fixtures.randomBytes(size))
        let result = try Self.curl("\(pair.mirror.url)/sha512/\(digest.hex)")
        #expect(result.exit == 18)
        #expect(result.bytes < size)
        #expect(pair.kept(digest) == nil)
        #expect(pair.temporaryFiles.isEmpty)
        #expect(try pair.fetches("cut") == 1)
    }

    @Test func withThePrimaryKilledCachedBlobsAreServedMissesAre502AndTheHeartbeatSaysSo() throws {
        let pair = try Pair()
        let bytes = Fixtures.randomBytes(300_000)
        let digest = try pair.upload(bytes)
        let cold = Fixtures.randomBytes(1000)
        let coldDigest = try pair.upload(cold)
        #expect(try pair.get("/sha512/\(digest.hex)").body == bytes)

        #expect(try pair.get("/__heartbeat__").status == 200)

        pair.primary.server.kill9()
        let heartbeat = try pair.get("/__heartbeat__")
        expectError(heartbeat, 503, .unhealthy)
        #expect(heartbeat.errorDescription?.contains("the upstream is unreachable") == true, "\(heartbeat.text)")
        #expect(try pair.get("/__lbheartbeat__").status == 200, "load balancers keep sending: cached blobs are served")
        let cached = try pair.get("/sha512/\(digest.hex)")
        #expect(cached.status == 200)
        #expect(cached.body == bytes)
        expectError(try pair.get("/sha512/\(coldDigest.hex)"), 502, .badGateway)
        #expect(try pair.fetches("unreachable") == 1)
        #expect(pair.temporaryFiles.isEmpty)
    }

    @Test func anUpstreamThatNeverAnswersGives504() throws {
        let double = try UpstreamDouble(.stall, size: 10)
        let pair = try Pair(upstreams: [double.url], primaryLast: false, arguments: ["--upstream-stall-timeout", "1"])
        let digest = Fixtures.digest(Fixtures.randomBytes(10))
        expectError(try pair.get("/sha512/\(digest.hex)"), 504, .gatewayTimeout)
        #expect(try pair.fetches("timeout") == 1)
    }

    @Test func concurrentMissesMakeOneUpstreamTransferAndAllGetTheSameBytes() throws {
        let pair = try Pair()
        let bytes = Fixtures.randomBytes(8 << 20)
        let digest = try pair.upload(bytes)
        let clients = 8
        let results = Mutex<[Int: RawHTTPResponse]>([:])
        let port = pair.mirror.port
        DispatchQueue.concurrentPerform(iterations: clients) { index in
            if let response = try? RawHTTPClient(port: port).request("GET", "/sha512/\(digest.hex)") {
                results.withLock { $0[index] = response }
            }
        }
        let responses = results.withLock { $0 }
        #expect(responses.count == clients)
        for response in responses.values {
            #expect(response.status == 200)
            #expect(response.body == bytes)
        }
        #expect(pair.primaryGets(digest) == 1, "one upstream transfer for \(clients) concurrent misses")
        #expect(try pair.fetches("verified") == 1)
        #expect(pair.kept(digest) == bytes)
    }

    @Test func blobPutsAndTheWebPageAreRedirectedAndTheAPIIsProxied() throws {
        let pair = try Pair()
        let bytes = Fixtures.randomBytes(1000)
        let digest = Fixtures.digest(bytes)
        let put = try RawHTTPClient(port: pair.mirror.port).request(
            "PUT", "/sha512/\(digest.hex)?visibility=public",
            headers: pair.primary.authorization(user: "up"), body: bytes)
        #expect(put.status == 307)
        #expect(put.header("Location") == "\(pair.primary.server.url)/sha512/\(digest.hex)?visibility=public")
        #expect(pair.kept(digest) == nil, "the mirror never takes an upload itself")
        // The JSON API is answered by the upstream through the mirror, token and status as they are.
        let token = pair.primary.authorization(user: "up")
        let direct = try pair.primary.request("GET", "/auth/whoami", user: "up")
        let api = try pair.get("/auth/whoami", headers: token)
        #expect(direct.status == 200)
        #expect(api.status == 200)
        #expect(api.body == direct.body)
        #expect(api.header("Content-Type") == direct.header("Content-Type"))
        expectError(
            try pair.get("/auth/whoami", headers: [("Authorization", "Bearer nobody-knows-this")]), 401, .unauthorized)
        expectError(
            try pair.get("/upload", method: "POST", headers: token + [("Content-Type", "application/json")]), 400,
            .badJSON)
        #expect(try pair.get("/ui/").header("Location") == "\(pair.primary.server.url)/ui/")

        // A client that follows the 307 with its token (curl --location-trusted) uploads through the mirror.
        let file = pair.mirrorRoot.file("upload.bin")
        try Fixtures.write(bytes, to: file)
        let raw = try #require(pair.primary.tokens["up"])
        let result = try ProcessRunner.run(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-L", "--location-trusted",
                "-X", "PUT", "-H", "Authorization: Bearer \(raw)", "--data-binary", "@\(file)",
                "\(pair.mirror.url)/sha512/\(digest.hex)?visibility=public"
            ], timeout: 60)
        #expect(result.stdout == "200")
        #expect(try pair.primary.request("GET", "/sha512/\(digest.hex)").body == bytes)
    }

    @Test func aTokenTheMirrorDoesNotKnowStillReadsPublicBlobs() throws {
        let pair = try Pair()
        let bytes = Fixtures.randomBytes(2000)
        let digest = try pair.upload(bytes)
        let response = try pair.get("/sha512/\(digest.hex)", headers: pair.primary.authorization(user: "up"))
        #expect(response.status == 200)
        #expect(response.body == bytes)
    }
}
