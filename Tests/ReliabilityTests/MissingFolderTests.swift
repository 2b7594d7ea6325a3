import Foundation
import Shared
import TestSupport
import Testing

/// Store folders that go missing while the server runs (an operator's clean-up, a restore), and uploads that cannot
/// fit (issue 11, item 6): the server makes the folders again instead of answering 500 after a whole body, GETs of a
/// missing folder answer 404, and a body larger than the free space is refused before it is sent.
@Suite struct MissingFolderTests {
    static let uploader = ServerFaultTests.uploader

    /// `rm -rf` of a path.
    static func remove(_ path: String) throws {
        try FileManager.default.removeItem(atPath: path)
        #expect(!exists(path))
    }

    /// `public/` (whole), `pvt/sha512/` and `.tmp/` removed under a running server: GETs of the blobs that were there
    /// answer 404, the heartbeat stays 200, and PUTs of 1 MiB (public) and 64 MiB (internal) make the folders again,
    /// answer 200 and are served. Before the fix: 500 at `open` (no `.tmp/`) or after the whole body (`link`).
    @Test func foldersRemovedWhileServingAreMadeAgainByTheNextUpload() throws {
        let store = try Store(tokens: Self.uploader)
        defer { store.server.stop() }
        let oldPublic = Fixtures.randomBytes(1000), oldInternal = Fixtures.randomBytes(1000)
        #expect(try store.put(oldPublic, user: "up").status == 200)
        #expect(try store.put(oldInternal, visibility: .internal, user: "up").status == 200)

        for folder in ["public", "pvt/sha512", ".tmp"] { try Self.remove("\(store.root)/\(folder)") }
        for (bytes, label) in [(oldPublic, "public"), (oldInternal, "internal")] {
            let get = try store.request("GET", "/sha512/\(Fixtures.digest(bytes).hex)", user: "up")
            #expect(get.status == 404, "\(label) blob in a removed folder: \(get.statusLine) \(get.text)")
        }
        let heartbeat = try store.request("GET", "/__heartbeat__")
        #expect(heartbeat.status == 200, "the store still takes a write: \(heartbeat.text)")

        let small = Fixtures.randomBytes(1 << 20)
        let put = try store.put(small, user: "up")
        #expect(put.status == 200, "\(put.statusLine) \(put.text)")
        let servesSmall = store.serves(small)  // not inside #expect: a failure would print every byte
        #expect(servesSmall, "served from the folder made again")
        var large = StorageFaultTests.base
        large[0] &+= 7
        let internalPut = try store.put(large, visibility: .internal, user: "up")
        #expect(internalPut.status == 200, "\(internalPut.statusLine) \(internalPut.text)")
        let stored = Fixtures.read(store.blobPath(Fixtures.digest(large), .internal)).map(Fixtures.digest)
        #expect(stored == Fixtures.digest(large), "stored whole")
        let head = try store.request("HEAD", "/sha512/\(Fixtures.digest(large).hex)", user: "up")
        #expect(head.status == 200 && head.header("Content-Length") == "\(large.count)", "\(head.statusLine)")
        #expect(store.temporaryFiles().isEmpty, "\(store.temporaryFiles())")
        #expect(
            store.server.stderr().contains("ERROR") == false, "no error logged: \(store.server.stderr().suffix(2000))")
    }

    /// A blob folder removed and then made again by hand, with a blob copied in ("old school" upload): the server
    /// finds the new folder on the first miss and serves the blob (it used to keep looking in the removed one).
    @Test func aFolderMadeAgainByHandIsServed() throws {
        let store = try Store(tokens: Self.uploader)
        defer { store.server.stop() }
        let before = Fixtures.randomBytes(1000)
        #expect(try store.put(before, user: "up").status == 200)
        #expect(store.serves(before))
        try Self.remove("\(store.root)/public/sha512")
        try FileManager.default.createDirectory(
            atPath: "\(store.root)/public/sha512", withIntermediateDirectories: false)
        let copied = Fixtures.randomBytes(5000)
        try Fixtures.write(copied, to: store.blobPath(Fixtures.digest(copied), .public))
        let servesCopied = store.serves(copied)
        #expect(servesCopied, "a blob copied into the new folder is served")
        #expect(try store.request("GET", "/sha512/\(Fixtures.digest(before).hex)").status == 404)
    }

    /// `.tmp/` removed while a 64 MiB body is 40 % in: the upload still ends with 200 and the blob whole (its bytes,
    /// already hashed, are copied into a new temp file at commit), instead of a 500 after the whole body.
    @Test func temporaryFolderRemovedMidUploadStillStoresTheBlob() throws {
        let store = try Store(tokens: Self.uploader)
        defer { store.server.stop() }
        var bytes = StorageFaultTests.base
        bytes[0] &+= 9
        let sent = bytes.count * 4 / 10
        let client = try AbandonedUploadTests.startUpload(store, bytes, sent: sent)
        try Self.remove("\(store.root)/.tmp")
        #expect(client.send(Array(bytes[sent...])))
        let answer = try client.readResponse()
        #expect(answer.status == 200, "\(answer.statusLine) \(answer.text)")
        let stored = Fixtures.read(store.blobPath(Fixtures.digest(bytes), .public)).map(Fixtures.digest)
        #expect(stored == Fixtures.digest(bytes), "stored whole")
        #expect(store.temporaryFiles().isEmpty, "\(store.temporaryFiles())")
    }

    /// A PUT whose `Content-Length` exceeds the free space of the store's filesystem (a real 8 MiB tmpfs) gets 507
    /// before its body: with `Expect: 100-continue` the answer is 507 instead of 100, so no body byte is sent; no
    /// temp file is left, and an upload that fits then goes through on the same server.
    @Test func anUploadLargerThanTheFreeSpaceIs507BeforeItsBody() throws {
        let mountPoint = TemporaryDirectory(prefix: "tmpfs")
        guard system("mount -t tmpfs -o size=8m tmpfs '\(mountPoint.path)' 2>/dev/null") == 0 else {
            try Test.cancel(
                "cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN); the free-space check not exercised")
        }
        defer { _ = system("umount -l '\(mountPoint.path)'") }
        let store = try Store(root: mountPoint.path, tokens: Self.uploader)
        defer { store.server.stop() }
        let token = try #require(store.tokens["up"])

        let big = Fixtures.randomBytes(16 << 20)
        let client = try RawHTTPClient(port: store.port, timeout: 10)
        let head =
            "PUT /sha512/\(Fixtures.digest(big).hex)?visibility=public HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Authorization: Bearer \(token)\r\nContent-Length: \(big.count)\r\nExpect: 100-continue\r\n\r\n"
        #expect(client.send(head))
        let answer = try client.readResponse()
        expectError(answer, 507, .insufficientStorage, "instead of 100 Continue:")
        #expect(answer.text.contains("no room for \(big.count) bytes"), "\(answer.text)")
        #expect(store.server.stderr().contains("no room for an upload of \(big.count) bytes"), "the log says why")
        #expect(store.temporaryFiles().isEmpty, "\(store.temporaryFiles())")
        for visibility in Visibility.allCases { #expect(!exists(store.blobPath(Fixtures.digest(big), visibility))) }

        // Without `Expect`, the refusal comes as soon as the head is read, whatever of the body was sent.
        expectError(try store.putAllowingAnEarlyAnswer(big, user: "up"), 507, .insufficientStorage)
        let fits = Fixtures.randomBytes(1 << 20)
        #expect(try store.put(fits, user: "up").status == 200)
        let servesFits = store.serves(fits)
        #expect(servesFits)
        #expect(store.server.isRunning)
    }
}
