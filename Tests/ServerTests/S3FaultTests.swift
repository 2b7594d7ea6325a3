import Foundation
import Shared
import TestSupport
import Testing

/// The S3 store with a fault proxy between the server and the endpoint: throttling, errors, stalls and cuts on
/// parts, completes and downloads. What is safe to retry is retried; otherwise the client gets 503 (or a cut
/// connection mid-download), and the bucket never holds anything unverified.
@Suite struct S3FaultTests {
    let harness: S3Harness
    let proxy: S3FaultProxy
    var moto: MotoServer { harness.moto }
    var bucket: String { harness.bucket }
    static let partSize = S3Harness.partSize

    init() throws {
        var made: S3FaultProxy?
        harness = try S3Harness { moto in
            made = try S3FaultProxy(upstreamPort: moto.port)
            return made!.endpoint
        }
        proxy = made!
    }

    func serve(_ extra: [String] = []) throws -> ServerProcess { try harness.serve(extra) }
    func token(_ permissions: [Permission]) throws -> String { try harness.token("u", permissions) }

    func put(_ server: ServerProcess, _ bytes: [UInt8], token: String) throws -> RawHTTPResponse {
        try S3Harness.request(
            server, "PUT", "/sha512/\(Fixtures.digest(bytes).hex)?visibility=public", token: token, body: bytes)
    }

    @Test func throttlingErrorsAndCutAnswersAreRetried() throws {
        let server = try serve()
        defer {
            _ = server.stop()
            proxy.stop()
        }
        let uploader = try token([.uploadPublic])
        proxy.add(.init("PUT", "partNumber=1", count: 2, .status(503, code: "SlowDown")))
        proxy.add(.init("PUT", "partNumber=2", .cut(afterBytes: 20)))
        proxy.add(.init("POST", "uploadId=", .status(500, code: "InternalError")))
        proxy.add(.init("GET", "/tt/public/", .status(503, code: "SlowDown")))
        let bytes = Fixtures.randomBytes(2 * Self.partSize + 777)
        let stored = try put(server, bytes, token: uploader)
        #expect(stored.status == 200, "\(stored.text)")
        let fetched = try RawHTTPClient(port: server.port, timeout: 60).request(
            "GET", "/sha512/\(Fixtures.digest(bytes).hex)")
        #expect(fetched.status == 200)
        let same = fetched.body == bytes
        #expect(same)
        #expect(proxy.log.count == 5, "\(proxy.log)")
        #expect(try moto.multipartUploads(bucket).isEmpty)
    }

    /// The endpoint failing every request: the heartbeat says the bucket does not answer (the load-balancer check
    /// stays up), a PUT and an API visibility switch answer 503 `StorageUnavailable` with `Retry-After`, nothing is
    /// lost; once the endpoint answers again, all of it works without a restart.
    /// The answer to CompleteMultipartUpload cut after S3 acted on it: the retry (or the HEAD after it) finds the
    /// object whole, so the upload is acknowledged once, and nothing is left open.
    @Test func aCompleteWhoseAnswerIsCutIsAcknowledgedOnce() throws {
        let server = try serve()
        defer {
            _ = server.stop()
            proxy.stop()
        }
        let uploader = try token([.uploadPublic])
        proxy.add(.init("POST", "uploadId=", .cut(afterBytes: 30)))
        let bytes = Fixtures.randomBytes(Self.partSize + 999)
        let stored = try put(server, bytes, token: uploader)
        #expect(stored.status == 200, "\(stored.text)")
        #expect(stored.text.contains("\"new\":true"), "\(stored.text)")
        #expect(proxy.log.count == 1 && proxy.log[0].contains("cut"), "\(proxy.log)")
        #expect(try moto.keys(bucket) == [S3Harness.key(Fixtures.digest(bytes), .public)])
        #expect(try eventually(timeout: 15) { try moto.multipartUploads(bucket).isEmpty })
        let fetched = try RawHTTPClient(port: server.port, timeout: 60).request(
            "GET", "/sha512/\(Fixtures.digest(bytes).hex)")
        let same = fetched.status == 200 && fetched.body == bytes
        #expect(same)
    }

    @Test func anEndpointThatStopsAnsweringIs503ThenRecovers() throws {
        let server = try serve()
        defer {
            _ = server.stop()
            proxy.stop()
        }
        let admin = try token([.uploadPublic, .uploadInternal, .downloadInternal, .manage])
        let kept = Fixtures.randomBytes(50_000)
        #expect(try put(server, kept, token: admin).status == 200)
        #expect(try S3Harness.request(server, "GET", "/__heartbeat__").status == 200)

        for method in ["GET", "HEAD", "PUT", "POST", "DELETE"] {
            proxy.add(.init(method, "/", count: 100_000, .status(503, code: "ServiceUnavailable")))
        }
        #expect(
            eventually(timeout: 30) { (try? S3Harness.request(server, "GET", "/__heartbeat__").status) == 503 },
            "the heartbeat notices within its 5 s cache")
        let sick = try S3Harness.request(server, "GET", "/__heartbeat__")
        #expect(sick.text.contains("does not answer"), "\(sick.text)")
        #expect(try S3Harness.request(server, "GET", "/__lbheartbeat__").status == 200)
        let refused = try put(server, Fixtures.randomBytes(1000), token: admin)
        #expect(refused.status == 503 && refused.text.contains("StorageUnavailable"), "\(refused.text)")
        #expect(refused.header("Retry-After") == "5")
        let patch = try S3Harness.request(
            server, "PATCH", "/file/sha512/\(Fixtures.digest(kept).hex)", token: admin,
            headers: [("Content-Type", "application/json")],
            body: Array(#"[{"op": "set_visibility", "visibility": "internal"}]"#.utf8))
        #expect(patch.status == 503 && patch.text.contains("StorageUnavailable"), "\(patch.text)")
        #expect(patch.header("Retry-After") == "5")
        #expect(server.isRunning)

        proxy.clear()
        #expect(eventually(timeout: 30) { (try? S3Harness.request(server, "GET", "/__heartbeat__").status) == 200 })
        #expect(try put(server, Fixtures.randomBytes(1000), token: admin).status == 200)
        let again = try S3Harness.request(
            server, "PATCH", "/file/sha512/\(Fixtures.digest(kept).hex)", token: admin,
            headers: [("Content-Type", "application/json")],
            body: Array(#"[{"op": "set_visibility", "visibility": "internal"}]"#.utf8))
        #expect(again.status == 200, "the same switch goes through once S3 answers: \(again.text)")
        #expect(try S3Harness.request(server, "GET", "/sha512/\(Fixtures.digest(kept).hex)").status == 401)
        let get = try S3Harness.request(server, "GET", "/sha512/\(Fixtures.digest(kept).hex)", token: admin)
        #expect(get.status == 200 && get.body == kept)
        #expect(try moto.keys(bucket).contains(S3Harness.key(Fixtures.digest(kept), .internal)))
        #expect(try moto.multipartUploads(bucket).isEmpty)
    }

    /// The write that publishes a blob is conditional (`If-None-Match: *`), so an upload that raced another (on this
    /// server or any other: no lock covers both) never replaces the object, and says it did not store it. The race
    /// is made certain by hiding the stored object from the upload's own HEAD checks; for both ways in: one
    /// PutObject (a body under a part) and a multipart upload.
    @Test func anUploadThatMissedTheStoredObjectDoesNotReplaceIt() throws {
        let server = try serve()
        defer {
            _ = server.stop()
            proxy.stop()
        }
        let uploader = try token([.uploadPublic])
        for bytes in [Fixtures.randomBytes(40_000), Fixtures.randomBytes(Self.partSize + 4321)] {
            let digest = Fixtures.digest(bytes)
            let first = try put(server, bytes, token: uploader)
            #expect(first.status == 200 && first.text.contains("\"new\":true"), "\(first.text)")
            proxy.add(.init("HEAD", "public/sha512/\(digest.hex)", count: 10, .status(404, code: "NoSuchKey")))
            let second = try put(server, bytes, token: uploader)
            #expect(second.status == 200, "\(second.text)")
            #expect(
                second.text.contains("\"new\":false"), "the conditional write refused to replace it: \(second.text)")
            proxy.clear()
        }
        #expect(proxy.log.contains { $0.contains("HEAD") }, "the HEAD checks were hidden: \(proxy.log)")
        #expect(
            try eventually(timeout: 15) { try moto.multipartUploads(bucket).isEmpty }, "the refused upload was aborted")
        #expect(try moto.keys(bucket).count == 2)
    }

    @Test func aCompleteThatKeepsFailingGives503AndLeavesNothing() throws {
        let server = try serve()
        defer {
            _ = server.stop()
            proxy.stop()
        }
        let uploader = try token([.uploadPublic])
        proxy.add(.init("POST", "uploadId=", count: 100, .status(500, code: "InternalError")))
        let bytes = Fixtures.randomBytes(Self.partSize + 10)
        let refused = try put(server, bytes, token: uploader)
        #expect(refused.status == 503, "\(refused.text)")
        #expect(refused.text.contains("StorageUnavailable"))
        #expect(refused.header("Retry-After") == "5")
        #expect(try moto.keys(bucket).isEmpty)
        #expect(
            try eventually(timeout: 15) { try moto.multipartUploads(bucket).isEmpty },
            "the failed upload was not aborted")
    }

    @Test func aStalledPartFailsTheUploadAndTheServerGoesOn() throws {
        let server = try serve(["--s3-stall-timeout", "1"])
        defer {
            _ = server.stop()
            proxy.stop()
        }
        let uploader = try token([.uploadPublic])
        proxy.add(.init("PUT", "partNumber=", count: 100, .stall))
        let bytes = Fixtures.randomBytes(2 * Self.partSize)
        let refused = try put(server, bytes, token: uploader)
        #expect(refused.status == 503, "\(refused.text)")
        #expect(try moto.keys(bucket).isEmpty)
        #expect(
            try eventually(timeout: 15) { try moto.multipartUploads(bucket).isEmpty },
            "the stalled upload was not aborted")
        let small = Fixtures.randomBytes(1000)  // one PutObject: not stalled
        #expect(try put(server, small, token: uploader).status == 200)
    }

    @Test func aDownloadCutMidBodyClosesTheClientsConnection() throws {
        let server = try serve()
        defer {
            _ = server.stop()
            proxy.stop()
        }
        let uploader = try token([.uploadPublic])
        let bytes = Fixtures.randomBytes(3 << 20)
        #expect(try put(server, bytes, token: uploader).status == 200)
        proxy.add(.init("GET", "/tt/public/", .cut(afterBytes: 300_000)))
        let client = try RawHTTPClient(port: server.port, timeout: 30)
        client.send("GET /sha512/\(Fixtures.digest(bytes).hex) HTTP/1.1\r\nHost: a\r\n\r\n")
        // The head promised 3 MiB; the connection ends before them, so no client takes the start for the whole.
        #expect(throws: (any Error).self) { try client.readResponse() }
        let again = try RawHTTPClient(port: server.port, timeout: 30).request(
            "GET", "/sha512/\(Fixtures.digest(bytes).hex)")
        let whole = again.status == 200 && again.body == bytes
        #expect(whole)
    }
}
