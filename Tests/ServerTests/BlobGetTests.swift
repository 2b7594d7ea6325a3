import Foundation
import Shared
import TestSupport
import Testing

/// `GET` and `HEAD /sha512/<digest>`: bytes, headers, ranges, conditional requests and the 4xx answers.
@Suite struct BlobGetTests {
    static let immutable = "max-age=31536000, immutable"

    @Test func publicBlobHasItsBytesAndExactlyTheCachingHeaders() throws {
        let harness = try ServerHarness()
        let bytes = Fixtures.randomBytes(100_000)
        let digest = try harness.storeByHand(bytes, .public)

        let response = try harness.request("GET", "/sha512/\(digest.hex)")
        #expect(response.status == 200)
        #expect(response.body == bytes)
        #expect(response.header("Content-Length") == "100000")
        #expect(response.header("Content-Type") == "application/octet-stream")
        #expect(response.header("ETag") == "\"\(digest.hex)\"")
        #expect(response.header("Accept-Ranges") == "bytes")
        #expect(response.header("Cache-Control") == "public, \(Self.immutable)")
        #expect(response.header("Server") == nil, "errors and answers never name the server's software")
    }

    @Test func privateBlobIsServedToADownloadInternalTokenAsPrivate() throws {
        let harness = try ServerHarness(tokens: ["ci": [.downloadInternal]])
        let bytes = Fixtures.randomBytes(5000)
        let digest = try harness.storeByHand(bytes, .internal)

        let response = try harness.request("GET", "/sha512/\(digest.hex)", user: "ci")
        #expect(response.status == 200)
        #expect(response.body == bytes)
        #expect(response.header("Cache-Control") == "private, \(Self.immutable)")
        #expect(response.header("ETag") == "\"\(digest.hex)\"")
    }

    /// A blob left in both folders by hand is a dispute fsck settles for pvt/; until then it must not be served
    /// to anyone the pvt/ copy would refuse.
    @Test func blobInBothFoldersIsTreatedAsPrivate() throws {
        let harness = try ServerHarness(tokens: ["ci": [.downloadInternal], "up": [.uploadPublic]])
        let bytes = Fixtures.randomBytes(1000)
        let digest = try harness.storeByHand(bytes, .internal)
        try harness.storeByHand(bytes, .public)

        let anonymous = try harness.request("GET", "/sha512/\(digest.hex)")
        #expect(anonymous.status == 401)
        let allowed = try harness.request("GET", "/sha512/\(digest.hex)", user: "ci")
        #expect(allowed.status == 200)
        #expect(allowed.header("Cache-Control") == "private, \(Self.immutable)")
        expectError(try harness.put(bytes, visibility: "public", user: "up"), 409, .visibilityConflict)
    }

    @Test func emptyBlobIsServed() throws {
        let harness = try ServerHarness()
        let digest = try harness.storeByHand([], .public)
        let response = try harness.request("GET", "/sha512/\(digest.hex)")
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == "0")
        #expect(response.body.isEmpty)
    }

    @Test func headHasTheRealLengthAndNoBody() throws {
        let harness = try ServerHarness()
        let bytes = Fixtures.randomBytes(70_000)
        let digest = try harness.storeByHand(bytes, .public)

        let client = try RawHTTPClient(port: harness.port)
        let head = try client.request("HEAD", "/sha512/\(digest.hex)")
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "70000")
        #expect(head.header("Content-Type") == "application/octet-stream")
        #expect(head.header("ETag") == "\"\(digest.hex)\"")
        // Had any body bytes followed the HEAD answer, this next response on the same connection would be garbled.
        let next = try client.request("GET", "/__lbheartbeat__")
        #expect(next.status == 200)
        #expect(next.statusLine.hasPrefix("HTTP/1.1 200"))
    }

    @Test(arguments: [
        ("bytes=0-9", 0, 9),
        ("bytes=100-199", 100, 199),
        ("bytes=990-", 990, 999),
        ("bytes=-25", 975, 999),
        ("bytes=995-5000", 995, 999),  // an end past the file is clamped
        ("bytes=-5000", 0, 999),  // a suffix longer than the file is the whole file
        ("bytes=999-999", 999, 999)
    ])
    func singleRangeGivesPartialContent(range: String, first: Int, last: Int) throws {
        let harness = try ServerHarness()
        let bytes = Fixtures.randomBytes(1000)
        let digest = try harness.storeByHand(bytes, .public)

        let response = try harness.request("GET", "/sha512/\(digest.hex)", headers: [("Range", range)])
        #expect(response.status == 206)
        #expect(response.header("Content-Range") == "bytes \(first)-\(last)/1000")
        #expect(response.header("Content-Length") == String(last - first + 1))
        #expect(response.body == Array(bytes[first...last]))
        #expect(response.header("ETag") == "\"\(digest.hex)\"")
    }

    @Test(arguments: ["bytes=1000-", "bytes=1000-2000", "bytes=5000-5001", "bytes=-0"])
    func unsatisfiableRangeGives416WithTheSize(range: String) throws {
        let harness = try ServerHarness()
        let digest = try harness.storeByHand(Fixtures.randomBytes(1000), .public)

        let response = try harness.request("GET", "/sha512/\(digest.hex)", headers: [("Range", range)])
        expectError(response, 416, .rangeNotSatisfiable)
        #expect(response.header("Content-Range") == "bytes */1000")
    }

    /// Several ranges are valid HTTP (RFC 9110 section 14.2): answered with the whole body when any is satisfiable,
    /// as a server that ignores `Range` would; 416 when none is.
    @Test(arguments: [
        ("bytes=0-1,5-6", 200),
        ("bytes=0-1, 5-6", 200),
        ("bytes=-5,0-0", 200),
        ("bytes=0-1,,5-6,", 200),  // empty list elements are allowed
        ("bytes=5000-,0-9", 200),  // one unsatisfiable, one satisfiable
        ("bytes=5000-,1000-,-0", 416)  // none satisfiable
    ])
    func multipleRangesGiveTheWholeBodyOr416(range: String, status: Int) throws {
        let harness = try ServerHarness()
        let bytes = Fixtures.randomBytes(1000)
        let digest = try harness.storeByHand(bytes, .public)

        let response = try harness.request("GET", "/sha512/\(digest.hex)", headers: [("Range", range)])
        if status == 200 {
            #expect(response.status == 200)
            #expect(response.header("Content-Range") == nil)
            #expect(response.header("Content-Length") == "1000")
            #expect(response.body == bytes)
        } else {
            expectError(response, 416, .rangeNotSatisfiable)
            #expect(response.header("Content-Range") == "bytes */1000")
        }
        let head = try harness.request("HEAD", "/sha512/\(digest.hex)", headers: [("Range", range)])
        #expect(head.status == status)
    }

    /// Decisions of `ByteRange.parse`: anything malformed is a 400 (also one bad spec in a list), a unit other than
    /// bytes is ignored.
    @Test(arguments: [
        "bytes=abc-", "bytes=5-2", "bytes=-", "bytes=1-x", "0-10", "bytes=,", "bytes=0-1,x", "bytes=0-1,5-2"
    ])
    func malformedRangesGive400(range: String) throws {
        let harness = try ServerHarness()
        let digest = try harness.storeByHand(Fixtures.randomBytes(1000), .public)

        let response = try harness.request("GET", "/sha512/\(digest.hex)", headers: [("Range", range)])
        expectError(response, 400, .badRange)
    }

    @Test func rangeInAnotherUnitOrWithAStaleIfRangeSendsTheWholeBlob() throws {
        let harness = try ServerHarness()
        let bytes = Fixtures.randomBytes(1000)
        let digest = try harness.storeByHand(bytes, .public)

        let otherUnit = try harness.request("GET", "/sha512/\(digest.hex)", headers: [("Range", "items=0-1")])
        #expect(otherUnit.status == 200)
        #expect(otherUnit.body == bytes)

        let stale = try harness.request(
            "GET", "/sha512/\(digest.hex)",
            headers: [("Range", "bytes=0-9"), ("If-Range", "\"\(String(repeating: "0", count: 128))\"")])
        #expect(stale.status == 200)
        #expect(stale.body == bytes)

        let current = try harness.request(
            "GET", "/sha512/\(digest.hex)",
            headers: [("Range", "bytes=0-9"), ("If-Range", "\"\(digest.hex)\"")])
        #expect(current.status == 206)
        #expect(current.body == Array(bytes[0...9]))
    }

    @Test func ifNoneMatchWithTheETagGives304WithoutABody() throws {
        let harness = try ServerHarness()
        let bytes = Fixtures.randomBytes(2000)
        let digest = try harness.storeByHand(bytes, .public)
        let etag = "\"\(digest.hex)\""

        for condition in [etag, "\"nope\", \(etag)", "W/\(etag)", "*"] {
            let client = try RawHTTPClient(port: harness.port)
            let response = try client.request("GET", "/sha512/\(digest.hex)", headers: [("If-None-Match", condition)])
            #expect(response.status == 304, "If-None-Match: \(condition)")
            #expect(response.header("ETag") == etag)
            #expect(response.header("Cache-Control") == "public, \(Self.immutable)")
            // A 304 has no body: the next answer on this connection must parse cleanly.
            #expect(try client.request("GET", "/__lbheartbeat__").status == 200)
        }

        let other = try harness.request(
            "GET", "/sha512/\(digest.hex)", headers: [("If-None-Match", "\"something-else\"")])
        #expect(other.status == 200)
        #expect(other.body == bytes)
    }

    @Test(arguments: [
        (String(repeating: "a", count: 127), "got 127"),
        (String(repeating: "a", count: 129), "got 129"),
        (String(repeating: "A", count: 128), "uppercase"),
        (String(repeating: "a", count: 127) + "g", "not hex"),
        (String(repeating: "a", count: 127) + "%", "not hex"),
        ("", "got 0")
    ])
    func malformedDigestsGive400(digest: String, mentions: String) throws {
        let harness = try ServerHarness()
        for method in ["GET", "PUT"] {
            let response = try harness.request(method, "/sha512/\(digest)")
            expectError(response, 400, .badDigest)
            #expect(response.errorDescription?.contains(mentions) == true, "\(method): \(response.text)")
        }
    }

    @Test func unknownDigestGives404() throws {
        let harness = try ServerHarness(tokens: ["ci": [.downloadInternal]])
        let digest = Fixtures.digest(Fixtures.randomBytes(10))
        expectError(try harness.request("GET", "/sha512/\(digest.hex)"), 404, .notFound)
        expectError(try harness.request("GET", "/sha512/\(digest.hex)", user: "ci"), 404, .notFound)
        let head = try harness.request("HEAD", "/sha512/\(digest.hex)")
        #expect(head.status == 404)
        #expect(head.body.isEmpty)
    }

    @Test func deleteOnABlobPathGives405WithAllow() throws {
        let harness = try ServerHarness()
        let digest = try harness.storeByHand(Fixtures.randomBytes(10), .public)
        let response = try harness.request("DELETE", "/sha512/\(digest.hex)")
        expectError(response, 405, .methodNotAllowed)
        #expect(response.header("Allow") == "GET, HEAD, PUT")
        #expect(harness.stored.contains(digest, .public), "a refused DELETE leaves the blob")

        let post = try harness.request("POST", "/__heartbeat__")
        expectError(post, 405, .methodNotAllowed)
        #expect(post.header("Allow") == "GET, HEAD")
    }

    @Test func unknownRouteGives404WithTheJSONErrorBody() throws {
        let harness = try ServerHarness()
        // (`/` redirects to the web page: UIRoutesTests.)
        for target in ["/nothing-here", "/sha256/abc", "/sha512", "/uix", "/u"] {
            let response = try harness.request("GET", target)
            expectError(response, 404, .notFound)
        }
    }

    @Test(.enabled(if: !TestStore.usesS3, "a FIFO is a thing of the disk store"))
    func aFIFOAtABlobsNameGives500AndDoesNotBlockTheServer() throws {
        let harness = try ServerHarness(tokens: ["ci": [.downloadInternal]])
        for visibility in [Visibility.public, .internal] {
            let digest = Fixtures.digest(Array("fifo \(visibility)".utf8))
            #expect(mkfifo(harness.stored.location(digest, visibility), 0o644) == 0)
            let response = try harness.request("GET", "/sha512/\(digest.hex)", user: "ci")
            #expect(response.status == 500, "a FIFO in \(visibility.folderName)/")
            #expect(try harness.request("GET", "/__lbheartbeat__").status == 200)
        }
    }
}
