import Foundation
import Shared
import TestSupport
import Testing

/// `serve --blob-store s3://...` end to end: the real server on a real S3 endpoint (`moto_server` with its
/// authentication on), checked through HTTP answers and the objects in the bucket.
@Suite struct S3StoreTests {
    let harness: S3Harness
    var moto: MotoServer { harness.moto }
    var bucket: String { harness.bucket }
    static let partSize = S3Harness.partSize

    init() throws { harness = try S3Harness() }

    func serve(_ extra: [String] = []) throws -> ServerProcess { try harness.serve(extra) }
    func token(_ user: String, _ permissions: [Permission]) throws -> String { try harness.token(user, permissions) }
    func command(_ arguments: [String]) throws -> ProcessResult { try harness.command(arguments) }
    static func key(_ digest: Digest, _ visibility: Visibility) -> String { S3Harness.key(digest, visibility) }

    func request(
        _ server: ServerProcess, _ method: String, _ target: String, token: String? = nil,
        headers: [(String, String)] = [], body: [UInt8] = []
    ) throws -> RawHTTPResponse {
        try S3Harness.request(server, method, target, token: token, headers: headers, body: body)
    }

    @Test func uploadsGoIntoTheBucketAndComeBackWithRangesAndETags() throws {
        let server = try serve()
        defer { _ = server.stop() }
        let uploader = try token("up", [.uploadPublic])
        let small = Fixtures.randomBytes(100_000), large = Fixtures.randomBytes(2 * Self.partSize + 12_345)
        for bytes in [small, large] {
            let digest = Fixtures.digest(bytes)
            let put = try request(
                server, "PUT", "/sha512/\(digest.hex)?visibility=public", token: uploader, body: bytes)
            #expect(put.status == 200, "\(put.text)")
            #expect(put.text.contains("\"new\":true"))
            let get = try request(server, "GET", "/sha512/\(digest.hex)")
            #expect(get.status == 200)
            let same = get.body == bytes
            #expect(same, "GET gave other bytes")
            #expect(get.header("ETag") == "\"\(digest.hex)\"")
            let range = try request(server, "GET", "/sha512/\(digest.hex)", headers: [("Range", "bytes=10-19")])
            #expect(range.status == 206)
            #expect(range.body == Array(bytes[10...19]))
            #expect(range.header("Content-Range") == "bytes 10-19/\(bytes.count)")
            let head = try request(server, "HEAD", "/sha512/\(digest.hex)")
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "\(bytes.count)")
            let cached = try request(
                server, "GET", "/sha512/\(digest.hex)", headers: [("If-None-Match", "\"\(digest.hex)\"")])
            #expect(cached.status == 304)
        }
        #expect(try moto.keys(bucket) == [small, large].map { Self.key(Fixtures.digest($0), .public) }.sorted())
        #expect(try moto.multipartUploads(bucket).isEmpty)
        let again = try request(
            server, "PUT", "/sha512/\(Fixtures.digest(small).hex)?visibility=public", token: uploader, body: small)
        #expect(again.status == 200)
        #expect(again.text.contains("\"new\":false"))
        #expect(try request(server, "GET", "/sha512/\(Fixtures.digest(Fixtures.randomBytes(10)).hex)").status == 404)
        #expect(try request(server, "GET", "/__heartbeat__").status == 200)
    }

    @Test func aWrongDigestOrACutBodyLeavesNothingInTheBucket() throws {
        let server = try serve()
        defer { _ = server.stop() }
        let uploader = try token("up", [.uploadPublic])
        let bytes = Fixtures.randomBytes(2 * Self.partSize + 1)
        let claimed = Fixtures.digest(Fixtures.randomBytes(64))
        let wrong = try request(server, "PUT", "/sha512/\(claimed.hex)?visibility=public", token: uploader, body: bytes)
        #expect(wrong.status == 400)
        #expect(wrong.text.contains("DigestMismatch"))
        do {
            let client = try RawHTTPClient(port: server.port)
            client.send(
                "PUT /sha512/\(Fixtures.digest(bytes).hex)?visibility=public HTTP/1.1\r\nHost: a\r\n"
                    + "Authorization: Bearer \(uploader)\r\nContent-Length: \(bytes.count)\r\n\r\n")
            client.send(Array(bytes[..<(Self.partSize + 100_000)]))
            usleep(500_000)
        }  // the client goes away mid-body
        #expect(
            try eventually(timeout: 15) { try moto.multipartUploads(bucket).isEmpty },
            "a multipart upload was left behind")
        #expect(try moto.keys(bucket).isEmpty)
        #expect(try request(server, "GET", "/sha512/\(Fixtures.digest(bytes).hex)").status == 404)
    }

    @Test func visibilitySwitchesAndDeletesMoveTheObjects() throws {
        let server = try serve()
        defer { _ = server.stop() }
        let admin = try token("admin", [.uploadInternal, .downloadInternal, .manage])
        let reader = try token("reader", [.downloadPublic])
        let bytes = Fixtures.randomBytes(300_000)
        let digest = Fixtures.digest(bytes)
        #expect(
            try request(server, "PUT", "/sha512/\(digest.hex)?visibility=internal", token: admin, body: bytes).status
                == 200)
        #expect(try moto.keys(bucket) == [Self.key(digest, .internal)])
        #expect(try request(server, "GET", "/sha512/\(digest.hex)").status == 401)
        #expect(try request(server, "GET", "/sha512/\(digest.hex)", token: reader).status == 403)
        #expect(try request(server, "GET", "/sha512/\(digest.hex)", token: admin).body == bytes)

        let patch = { (body: String) throws -> RawHTTPResponse in
            try request(
                server, "PATCH", "/file/sha512/\(digest.hex)", token: admin,
                headers: [("Content-Type", "application/json")], body: Array(body.utf8))
        }
        #expect(try patch(#"[{"op": "set_visibility", "visibility": "public"}]"#).status == 200)
        #expect(try moto.keys(bucket) == [Self.key(digest, .public)])
        #expect(try request(server, "GET", "/sha512/\(digest.hex)").body == bytes)

        // The offline command with the same flags, back to pvt/.
        let moved = try command(["visibility", digest.hex, "internal"])
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(try moto.keys(bucket) == [Self.key(digest, .internal)])
        #expect(try request(server, "GET", "/sha512/\(digest.hex)").status == 401)

        #expect(try patch(#"[{"op": "delete_instances"}]"#).status == 200)
        #expect(try moto.keys(bucket).isEmpty)
        #expect(try request(server, "GET", "/sha512/\(digest.hex)", token: admin).status == 404)
    }

    @Test func redirectModeAnswersWithAPresignedURLAfterTheSameChecks() throws {
        let server = try serve(["--s3-downloads", "redirect", "--s3-url-lifetime", "120"])
        defer { _ = server.stop() }
        let admin = try token("admin", [.uploadPublic, .uploadInternal, .downloadInternal])
        let open = Fixtures.randomBytes(1000), secret = Fixtures.randomBytes(1001)
        #expect(
            try request(
                server, "PUT", "/sha512/\(Fixtures.digest(open).hex)?visibility=public", token: admin, body: open
            ).status == 200)
        #expect(
            try request(
                server, "PUT", "/sha512/\(Fixtures.digest(secret).hex)?visibility=internal", token: admin, body: secret
            ).status == 200)
        let redirected = try request(server, "GET", "/sha512/\(Fixtures.digest(open).hex)")
        #expect(redirected.status == 302)
        let location = try #require(redirected.header("Location"))
        #expect(location.hasPrefix("\(moto.endpoint)/\(bucket)/\(Self.key(Fixtures.digest(open), .public))?"))
        #expect(location.contains("X-Amz-Expires=120"))
        #expect(location.contains("X-Amz-Signature="))
        let refused = try request(server, "GET", "/sha512/\(Fixtures.digest(secret).hex)")
        #expect(refused.status == 401)
        #expect(refused.header("Location") == nil)
        let allowed = try request(server, "GET", "/sha512/\(Fixtures.digest(secret).hex)", token: admin)
        #expect(allowed.status == 302)
        #expect(allowed.header("Location")?.contains("/tt/pvt/sha512/") == true)
    }

    @Test func fsckRehashesObjectsAndQuarantinesBadOnes() throws {
        let server = try serve()
        let uploader = try token("up", [.uploadPublic])
        let good = Fixtures.randomBytes(2000)
        #expect(
            try request(
                server, "PUT", "/sha512/\(Fixtures.digest(good).hex)?visibility=public", token: uploader, body: good
            ).status == 200)
        _ = server.stop()
        let named = Fixtures.digest(Fixtures.randomBytes(10))  // an object whose content is not its name
        try moto.python(
            "boto3.client('s3').put_object(Bucket='\(bucket)', Key='\(Self.key(named, .public))', Body=b'not it')")
        let dry = try command(["fsck"])
        #expect(dry.status == 1)
        #expect(
            dry.stdout.contains("corrupt\ts3://\(bucket)/\(Self.key(named, .public))"), "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("verified 1 blob(s)"))
        let repaired = try command(["fsck", "--repair"])
        #expect(repaired.status == 0, "\(repaired.stdout)\(repaired.stderr)")
        let keys = try moto.keys(bucket)
        #expect(keys.contains(Self.key(Fixtures.digest(good), .public)))
        #expect(!keys.contains(Self.key(named, .public)))
        #expect(keys.contains { $0.hasPrefix("tt/quarantine/public-sha512-\(named.hex)-") })
        #expect(try command(["fsck"]).status == 0)
    }

    @Test func aKilledServersMultipartUploadIsAbortedByTheNextSweep() throws {
        let server = try serve(["--s3-abandoned-after", "1"])
        let uploader = try token("up", [.uploadPublic])
        let bytes = Fixtures.randomBytes(3 * Self.partSize)
        let client = try RawHTTPClient(port: server.port)
        client.send(
            "PUT /sha512/\(Fixtures.digest(bytes).hex)?visibility=public HTTP/1.1\r\nHost: a\r\n"
                + "Authorization: Bearer \(uploader)\r\nContent-Length: \(bytes.count)\r\n\r\n")
        client.send(Array(bytes[..<(2 * Self.partSize)]))
        #expect(
            try eventually(timeout: 15) { try moto.multipartUploads(bucket).count == 1 }, "no multipart upload began")
        server.kill9()
        #expect(try moto.multipartUploads(bucket).count == 1)  // a crash leaves it behind
        #expect(try moto.keys(bucket).isEmpty)
        sleep(2)  // older than --s3-abandoned-after
        let next = try serve(["--s3-abandoned-after", "1"])
        defer { _ = next.stop() }
        #expect(
            try eventually(timeout: 15) { try moto.multipartUploads(bucket).isEmpty },
            "the sweep left the abandoned upload")
        #expect(next.stderr().contains("removed 1 stale temp file(s)"))
        #expect(try moto.keys(bucket).isEmpty)
    }
}
