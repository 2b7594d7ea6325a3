import Foundation
import Shared
import TestSupport
import Testing

/// `PUT /sha512/<digest>`: verified streaming uploads, what is refused before the body, and what a failure leaves.
@Suite struct BlobPutTests {
    static let uploader: [String: [Permission]] = [
        "up": [.uploadInternal, .uploadPublic, .downloadInternal],
        "internal-only": [.uploadInternal],
        "reader": [.downloadInternal, .downloadPublic]
    ]

    @Test func goodUploadIsStoredInternalByDefault() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(300_000)
        let digest = Fixtures.digest(bytes)

        let response = try harness.put(bytes, user: "up")
        #expect(response.status == 200, "\(response.text)")
        #expect(response.header("Content-Type") == "application/json")
        let result = try response.json()["result"]
        #expect(result?["new"]?.boolValue == true)
        #expect(result?["digest"]?.stringValue == digest.hex)
        #expect(result?["size"]?.intValue == 300_000)
        #expect(result?["visibility"]?.stringValue == "internal")
        #expect(harness.stored.bytes(digest, .internal) == bytes)
        #expect(!harness.stored.contains(digest, .public))
        #expect(harness.uploadsInProgress().isEmpty)

        // And it is served back.
        let get = try harness.request("GET", "/sha512/\(digest.hex)", user: "up")
        #expect(get.status == 200)
        #expect(get.body == bytes)
    }

    @Test(arguments: [("public", Visibility.public), ("internal", Visibility.internal)])
    func visibilityParameterChoosesTheFolder(name: String, visibility: Visibility) throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(1234)
        let digest = Fixtures.digest(bytes)

        let response = try harness.put(bytes, visibility: name, user: "up")
        #expect(response.status == 200, "\(response.text)")
        #expect(try response.json()["result"]?["visibility"]?.stringValue == visibility.rawValue)
        #expect(harness.stored.bytes(digest, visibility) == bytes)
        #expect(!harness.stored.contains(digest, visibility.other))
        if !TestStore.usesS3 {
            let path = harness.stored.location(digest, visibility)
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o644, "a static server mirroring the folder must be able to read the file")
        }
    }

    @Test func emptyBodyUploads() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let response = try harness.put([], visibility: "public", user: "up")
        #expect(response.status == 200, "\(response.text)")
        #expect(harness.stored.bytes(Fixtures.digest([]), .public) == [])
    }

    @Test func unknownVisibilityGives400() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let response = try harness.put(Fixtures.randomBytes(10), visibility: "secret", user: "up")
        expectError(response, 400, .badVisibility)
    }

    @Test func wrongDigestGives400NamingBothDigestsAndLeavesNothing() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(200_000)
        let claimed = Fixtures.digest(Fixtures.randomBytes(16))
        let actual = Fixtures.digest(bytes)

        let response = try harness.put(bytes, digest: claimed, visibility: "public", user: "up")
        expectError(response, 400, .digestMismatch)
        #expect(response.errorDescription?.contains(claimed.hex) == true, "\(response.text)")
        #expect(response.errorDescription?.contains(actual.hex) == true, "\(response.text)")
        for visibility in Visibility.allCases {
            #expect(!harness.stored.contains(claimed, visibility))
            #expect(!harness.stored.contains(actual, visibility))
        }
        #expect(harness.uploadsInProgress().isEmpty)
        expectError(try harness.request("GET", "/sha512/\(claimed.hex)", user: "up"), 404, .notFound)
    }

    @Test func truncatedBodyIsDroppedAndItsTempFileRemoved() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(TestStore.sizeSeenInProgress(atLeast: 1 << 20))
        let digest = Fixtures.digest(bytes)

        do {
            let client = try RawHTTPClient(port: harness.port)
            let head =
                "PUT /sha512/\(digest.hex)?visibility=public HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer \(harness.tokens["up"]!)\r\nContent-Length: \(bytes.count)\r\n\r\n"
            #expect(client.send(Array(head.utf8) + bytes[..<(bytes.count / 2)]))
            // The upload must be in progress (its temp file exists) before the client goes away.
            #expect(eventually { !harness.uploadsInProgress().isEmpty })
        }  // the client closes here, half-way through the body

        #expect(eventually { harness.uploadsInProgress().isEmpty }, "temp files left: \(harness.uploadsInProgress())")
        for visibility in Visibility.allCases { #expect(!harness.stored.contains(digest, visibility)) }
        // The server keeps serving, and the same upload then succeeds.
        let retry = try harness.put(bytes, visibility: "public", user: "up")
        #expect(retry.status == 200)
        #expect(try retry.json()["result"]?["new"]?.boolValue == true)
    }

    @Test func transferEncodingGives411AndAClose() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let digest = Fixtures.digest(Array("hello".utf8))
        let client = try RawHTTPClient(port: harness.port)
        client.send(
            "PUT /sha512/\(digest.hex) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(harness.tokens["up"]!)\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        let response = try client.readResponse()
        expectError(response, 411, .lengthRequired)
        #expect(response.header("Connection") == "close")
        #expect(client.isClosedByPeer())
        #expect(!harness.stored.contains(digest, .internal))
    }

    @Test func missingContentLengthGives411() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let digest = Fixtures.digest(Array("hello".utf8))
        let client = try RawHTTPClient(port: harness.port)
        client.send(
            "PUT /sha512/\(digest.hex) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(harness.tokens["up"]!)\r\n\r\n"
        )
        let response = try client.readResponse()
        expectError(response, 411, .lengthRequired)
        #expect(client.isClosedByPeer())
        #expect(harness.uploadsInProgress().isEmpty)
    }

    @Test func overTheSizeLimitGives413BeforeTheBody() throws {
        let harness = try ServerHarness(tokens: Self.uploader, arguments: ["--max-upload-size", "1000"])
        let bytes = Fixtures.randomBytes(5000)
        let digest = Fixtures.digest(bytes)
        let client = try RawHTTPClient(port: harness.port)
        client.send(
            "PUT /sha512/\(digest.hex) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(harness.tokens["up"]!)\r\n"
                + "Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
        // The first thing back is the 413, not a 100 Continue: the client is spared the body.
        let response = try client.readResponse()
        expectError(response, 413, .contentTooLarge)
        #expect(response.errorDescription?.contains("1000") == true)
        #expect(client.isClosedByPeer())
        #expect(harness.uploadsInProgress().isEmpty)

        // At the limit it is taken.
        let small = Fixtures.randomBytes(1000)
        #expect(try harness.put(small, user: "up").status == 200)
    }

    /// Clients like tooltool.py send the whole body without `Expect`; they must still read the refusal.
    @Test func refusalsReachAClientThatSendsTheWholeBodyAnyway() throws {
        let harness = try ServerHarness(tokens: Self.uploader, arguments: ["--max-upload-size", "1000000"])
        let bytes = Fixtures.randomBytes(4 << 20)
        let digest = Fixtures.digest(bytes)
        let cases: [(user: String?, status: Int)] = [(nil, 401), ("reader", 403), ("up", 413)]
        for item in cases {
            let client = try RawHTTPClient(port: harness.port)
            let response = try client.request(
                "PUT", "/sha512/\(digest.hex)", headers: harness.authorization(user: item.user), body: bytes)
            #expect(response.status == item.status, "\(item.user ?? "anonymous"): \(response.statusLine)")
            #expect(response.header("Content-Type") == "application/json")
        }
        #expect(harness.uploadsInProgress().isEmpty)
    }

    @Test func uploadWithoutTokenGives401AndWithoutPermissionGives403BeforeTheBody() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(4000)
        let digest = Fixtures.digest(bytes)
        let cases: [(user: String?, visibility: String, status: Int, name: APIErrorName)] = [
            (nil, "internal", 401, .unauthorized),
            (nil, "public", 401, .unauthorized),
            ("reader", "internal", 403, .forbidden),
            ("internal-only", "public", 403, .forbidden)
        ]
        for item in cases {
            let client = try RawHTTPClient(port: harness.port)
            let auth = harness.authorization(user: item.user).map { "\($0.0): \($0.1)\r\n" }.joined()
            client.send(
                "PUT /sha512/\(digest.hex)?visibility=\(item.visibility) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(auth)"
                    + "Content-Length: 4000\r\nExpect: 100-continue\r\n\r\n")
            let response = try client.readResponse()
            expectError(response, item.status, item.name)
            if item.status == 401 { #expect(response.header("WWW-Authenticate") == "Bearer realm=\"tooltool\"") }
            #expect(response.errorDescription?.contains("upload.\(item.visibility)") == true, "\(response.text)")
            #expect(client.isClosedByPeer())
        }
        for visibility in Visibility.allCases { #expect(!harness.stored.contains(digest, visibility)) }
        // The right permission for that visibility is enough.
        #expect(try harness.put(bytes, visibility: "internal", user: "internal-only").status == 200)
    }

    @Test func expectContinueGets100ThenTheBodyIsStored() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(100_000)
        let digest = Fixtures.digest(bytes)
        let client = try RawHTTPClient(port: harness.port)
        client.send(
            "PUT /sha512/\(digest.hex) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(harness.tokens["up"]!)\r\n"
                + "Content-Length: \(bytes.count)\r\nExpect: 100-continue\r\n\r\n")
        let interim = try client.readResponse()
        #expect(interim.status == 100)
        client.send(bytes)
        let response = try client.readResponse()
        #expect(response.status == 200, "\(response.text)")
        #expect(try response.json()["result"]?["new"]?.boolValue == true)
        #expect(harness.stored.bytes(digest, .internal) == bytes)
    }

    @Test func connectionStaysOpenAcrossUploadsAndDownloads() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let first = Fixtures.randomBytes(30_000), second = Fixtures.randomBytes(40_000)
        let client = try RawHTTPClient(port: harness.port)
        let auth = harness.authorization(user: "up")
        let put1 = try client.request(
            "PUT", "/sha512/\(Fixtures.digest(first).hex)?visibility=public", headers: auth, body: first)
        #expect(put1.status == 200)
        #expect(put1.header("Connection") != "close")
        let put2 = try client.request("PUT", "/sha512/\(Fixtures.digest(second).hex)", headers: auth, body: second)
        #expect(put2.status == 200)
        let get = try client.request("GET", "/sha512/\(Fixtures.digest(second).hex)", headers: auth)
        #expect(get.body == second)
        // A mismatch whose body was read whole leaves the connection usable too.
        let mismatch = try client.request("PUT", "/sha512/\(Fixtures.digest([7]).hex)", headers: auth, body: second)
        expectError(mismatch, 400, .digestMismatch)
        let after = try client.request("GET", "/sha512/\(Fixtures.digest(first).hex)")
        #expect(after.body == first)
    }

    @Test func duplicateUploadGives200WithNewFalse() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(50_000)
        let digest = Fixtures.digest(bytes)
        #expect(try harness.put(bytes, visibility: "public", user: "up").status == 200)
        let inode = TestStore.usesS3 ? nil : try Self.inode(harness.stored.location(digest, .public))

        let again = try harness.put(bytes, visibility: "public", user: "up")
        #expect(again.status == 200, "\(again.text)")
        #expect(try again.json()["result"]?["new"]?.boolValue == false)
        if let inode {
            #expect(
                try Self.inode(harness.stored.location(digest, .public)) == inode, "the stored file is not replaced")
        }
        #expect(harness.uploadsInProgress().isEmpty)
    }

    @Test func duplicateUploadWithExpectContinueIsAnsweredBeforeTheBody() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(50_000)
        let digest = Fixtures.digest(bytes)
        #expect(try harness.put(bytes, user: "up").status == 200)

        let client = try RawHTTPClient(port: harness.port)
        client.send(
            "PUT /sha512/\(digest.hex) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(harness.tokens["up"]!)\r\n"
                + "Content-Length: 50000\r\nExpect: 100-continue\r\n\r\n")
        let response = try client.readResponse()  // no body was sent: the answer must not wait for it
        #expect(response.status == 200, "\(response.text)")
        let result = try response.json()["result"]
        #expect(result?["new"]?.boolValue == false)
        #expect(result?["size"]?.intValue == 50_000)
        #expect(result?["visibility"]?.stringValue == "internal")
    }

    /// A blob removed behind the server's back (by hand, `aws s3 rm`): the index still lists it, but a client
    /// waiting on `Expect: 100-continue` is not told it is stored; it gets its 100 and the upload stores it again.
    @Test func aBlobRemovedByHandIsUploadedAgainEvenWithExpectContinue() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(50_000)
        let digest = Fixtures.digest(bytes)
        #expect(try harness.put(bytes, visibility: "public", user: "up").status == 200)
        try harness.stored.remove(digest, .public)

        let client = try RawHTTPClient(port: harness.port)
        client.send(
            "PUT /sha512/\(digest.hex)?visibility=public HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer \(harness.tokens["up"]!)\r\nContent-Length: \(bytes.count)\r\nExpect: 100-continue\r\n\r\n"
        )
        let interim = try client.readResponse()
        #expect(interim.status == 100, "the store no longer holds it: \(interim.statusLine) \(interim.text)")
        client.send(bytes)
        let response = try client.readResponse()
        #expect(response.status == 200, "\(response.text)")
        #expect(harness.stored.bytes(digest, .public) == bytes)
        #expect(try harness.request("GET", "/sha512/\(digest.hex)").body == bytes)
    }

    @Test func uploadingWithTheOtherVisibilityGives409AndChangesNothing() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(20_000)
        let digest = Fixtures.digest(bytes)
        #expect(try harness.put(bytes, visibility: "internal", user: "up").status == 200)

        let conflict = try harness.put(bytes, visibility: "public", user: "up")
        expectError(conflict, 409, .visibilityConflict)
        #expect(harness.stored.bytes(digest, .internal) == bytes)
        #expect(!harness.stored.contains(digest, .public))
        #expect(harness.uploadsInProgress().isEmpty)
        // Still private: anonymous readers are refused.
        #expect(try harness.request("GET", "/sha512/\(digest.hex)").status == 401)
    }

    @Test func duplicateWithExpectContinueReportsTheStoredSizeWhateverTheClaimedLength() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(50_000)
        let digest = Fixtures.digest(bytes)
        #expect(try harness.put(bytes, visibility: "public", user: "up").status == 200)

        let client = try RawHTTPClient(port: harness.port)
        client.send(
            "PUT /sha512/\(digest.hex)?visibility=public HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer \(harness.tokens["up"]!)\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"
        )
        let response = try client.readResponse()
        #expect(response.status == 200, "\(response.text)")
        #expect(try response.json()["result"]?["size"]?.intValue == 50_000, "the file's JSON describes the stored file")
        #expect(harness.stored.bytes(digest, .public) == bytes)
    }

    @Test func parallelUploadsOfOneDigestAllSucceedAndLeaveOneWholeFile() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(4 << 20)
        let digest = Fixtures.digest(bytes)

        let all = Self.uploadInParallel(bytes, visibilities: Array(repeating: "public", count: 12), harness: harness)
        #expect(all.allSatisfy { $0.status == 200 }, "statuses: \(all.map(\.status))")
        #expect(all.filter { $0.new == true }.count == 1, "exactly one upload published the blob: \(all.map(\.new))")
        #expect(harness.stored.bytes(digest, .public) == bytes)
        #expect(!harness.stored.contains(digest, .internal))
        #expect(eventually { harness.uploadsInProgress().isEmpty })
    }

    @Test func parallelUploadsWithBothVisibilitiesStoreOneFileAndRefuseTheOthers() throws {
        let harness = try ServerHarness(tokens: Self.uploader)
        let bytes = Fixtures.randomBytes(2 << 20)
        let digest = Fixtures.digest(bytes)

        let visibilities = (0..<10).map { $0 % 2 == 0 ? "public" : "internal" }
        let all = Self.uploadInParallel(bytes, visibilities: visibilities, harness: harness)
        #expect(all.allSatisfy { $0.status == 200 || $0.status == 409 }, "statuses: \(all.map(\.status))")
        let winners = Set(zip(visibilities, all).filter { $0.1.status == 200 }.map(\.0))
        #expect(winners.count == 1, "every 200 is for one visibility: \(Array(zip(visibilities, all.map(\.status))))")
        let inPublic = harness.stored.contains(digest, .public)
        let inPvt = harness.stored.contains(digest, .internal)
        #expect(inPublic != inPvt, "one file, in one folder")
        #expect(winners == [inPublic ? "public" : "internal"])
        #expect(harness.stored.bytes(digest, inPublic ? .public : .internal) == bytes)
        #expect(eventually { harness.uploadsInProgress().isEmpty })
    }

    /// PUTs `bytes` once per entry of `visibilities`, all at once: every connection sends its head and a first
    /// piece, then all send the rest together, so the uploads overlap. Returns each status and `result.new`.
    static func uploadInParallel(
        _ bytes: [UInt8], visibilities: [String], harness: ServerHarness
    ) -> [(status: Int, new: Bool?)] {
        let digest = Fixtures.digest(bytes)
        let port = harness.port, token = harness.tokens["up"]!
        let results = ResultBox<(status: Int, new: Bool?)>(count: visibilities.count)
        let ready = DispatchGroup(), done = DispatchGroup()
        let go = DispatchSemaphore(value: 0)
        for (slot, visibility) in visibilities.enumerated() {
            ready.enter()
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                var readied = false
                do {
                    let client = try RawHTTPClient(port: port, timeout: 30)
                    client.send(
                        "PUT /sha512/\(digest.hex)?visibility=\(visibility) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            + "Authorization: Bearer \(token)\r\nContent-Length: \(bytes.count)\r\n\r\n")
                    client.send(Array(bytes[..<1000]))
                    ready.leave()
                    readied = true
                    go.wait()
                    client.send(Array(bytes[1000...]))
                    let response = try client.readResponse()
                    results.set(slot, (response.status, (try? response.json())?["result"]?["new"]?.boolValue))
                } catch {
                    if !readied { ready.leave() }
                    results.set(slot, (-1, nil))
                }
            }
        }
        ready.wait()
        for _ in visibilities { go.signal() }
        done.wait()
        return results.values
    }

    static func inode(_ path: String) throws -> UInt64 {
        var info = stat()
        try #require(stat(path, &info) == 0)
        return UInt64(info.st_ino)
    }
}
