import Foundation
import Shared
import TestSupport
import Testing

/// Uploads dropped at unusual moments, above the size at which the server hashes on a second core (4 MiB): a full
/// disk, a file-size limit, a client gone, a stop signal, a late 409. Each must end that one request (with its
/// documented answer, when there is one to send), remove its temp file and leave the server serving; before the fix
/// every one but the 409 killed the process (SIGILL in libdispatch, or SIGXFSZ).
@Suite struct AbandonedUploadTests {
    static let uploader = ServerFaultTests.uploader
    /// Above `FileSystemUpload.pipelineThreshold`, so the upload is hashed on a second core.
    static let large = 64 << 20

    /// After a failed upload: the process still runs, no temp file is left, a stored blob is served and a new upload
    /// of `fresh` works, on the same process.
    static func expectStillServing(
        _ store: Store, kept: [UInt8], fresh: [UInt8], _ comment: String = "",
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(
            eventually { store.temporaryFiles().isEmpty }, "\(comment) temp files left: \(store.temporaryFiles())",
            sourceLocation: sourceLocation)
        #expect(
            store.server.isRunning,
            "\(comment) the server died: \(store.server.ending ?? "")\n\(store.server.stderr().suffix(2000))",
            sourceLocation: sourceLocation)
        let servesKept = store.serves(kept)  // not inside #expect: a failure would print every byte
        #expect(servesKept, "\(comment) a stored blob is still served", sourceLocation: sourceLocation)
        let put = try store.put(fresh, user: "up")
        #expect(put.status == 200, "\(comment) a new upload works: \(put.text)", sourceLocation: sourceLocation)
        let servesFresh = store.serves(fresh)
        #expect(servesFresh, "\(comment) the new blob is served", sourceLocation: sourceLocation)
    }

    /// Sends a PUT's head and the first `sent` bytes of `bytes`, and waits until the server has written them all to
    /// its temp file (so the upload is mid-slot in the hashing ring when `sent` is not a multiple of 256 KiB).
    static func startUpload(
        _ store: Store, _ bytes: [UInt8], sent: Int, visibility: Visibility = .public
    ) throws -> RawHTTPClient {
        let client = try RawHTTPClient(port: store.port, timeout: 30)
        let head = ServerFaultTests.putHead(
            Fixtures.digest(bytes), length: bytes.count, token: store.tokens["up"]!,
            visibility: visibility)
        #expect(client.send(head + bytes[..<sent]))
        let arrived = eventually(timeout: 20) {
            store.temporaryFiles().contains { name in
                let size =
                    (try? FileManager.default.attributesOfItem(atPath: "\(store.root)/.tmp/\(name)")[.size]) as? Int
                return size == sent
            }
        }
        #expect(arrived, "the server wrote the first \(sent) bytes")
        return client
    }

    /// The issue's steps, with the disk filling up mid-body: a 24 MiB tmpfs as the root, a 10 MiB PUT that fits when
    /// it begins (a PUT larger than the free space is refused before its body, see `MissingFolderTests`), then a
    /// filler file takes the rest of the space 5 MiB into the body. 507 with the error body (a real ENOSPC from the
    /// write), then the server goes on.
    @Test func diskFullAboveTheThreadedHashingSizeGives507AndTheServerGoesOn() throws {
        let mountPoint = TemporaryDirectory(prefix: "tmpfs")
        guard system("mount -t tmpfs -o size=24m tmpfs '\(mountPoint.path)' 2>/dev/null") == 0 else {
            try Test.cancel("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN); disk-full path not exercised")
        }
        defer { _ = system("umount -l '\(mountPoint.path)'") }
        let store = try Store(root: mountPoint.path, tokens: Self.uploader)
        defer { store.server.stop() }
        let kept = Fixtures.randomBytes(1 << 20)
        #expect(try store.put(kept, user: "up").status == 200)
        let big = Fixtures.randomBytes(10 << 20)
        let sent = (5 << 20) + 1000
        let client = try Self.startUpload(store, big, sent: sent)
        let filler = mountPoint.path + "/filler"
        #expect(system("dd if=/dev/zero of='\(filler)' bs=1M count=64 2>/dev/null") != 0, "the filler fills the disk")
        _ = client.send(Array(big[sent...]))  // may be cut short by the early answer
        expectError(try client.readResponse(), 507, .insufficientStorage)
        #expect(store.server.stderr().contains("disk full: write("), "a real ENOSPC from the write")
        for visibility in Visibility.allCases { #expect(!exists(store.blobPath(Fixtures.digest(big), visibility))) }
        try FileManager.default.removeItem(atPath: filler)
        try Self.expectStillServing(store, kept: kept, fresh: Fixtures.randomBytes(1 << 20))
    }

    /// A file-size limit (`prlimit --fsize`, a real EFBIG from the kernel) below the upload's size: a 500 with the
    /// error body, not a server killed by SIGXFSZ.
    @Test func aFileSizeLimitFailsTheUploadNotTheServer() throws {
        let store = try Store(tokens: Self.uploader, launcher: ["/usr/bin/prlimit", "--fsize=\(8 << 20)"])
        defer { store.server.stop() }
        let kept = Fixtures.randomBytes(1 << 20)
        #expect(try store.put(kept, user: "up").status == 200)
        let big = Fixtures.randomBytes(10 << 20)
        expectError(try store.putAllowingAnEarlyAnswer(big, user: "up"), 500, .internalServerError)
        #expect(store.server.stderr().contains("File too large"), "the log names the cause")
        try Self.expectStillServing(store, kept: kept, fresh: Fixtures.randomBytes(1 << 20))
    }

    /// A client that closes in the middle of a large upload (its last block half in the hashing ring).
    @Test func aClientGoneMidwayThroughALargeUploadLeavesTheServerServing() throws {
        let store = try Store(tokens: Self.uploader)
        defer { store.server.stop() }
        let kept = Fixtures.randomBytes(1 << 20)
        #expect(try store.put(kept, user: "up").status == 200)
        let big = Fixtures.randomBytes(Self.large)
        var client: RawHTTPClient? = try Self.startUpload(store, big, sent: (5 << 20) + 1000)
        _ = client
        client = nil  // closes the socket
        for visibility in Visibility.allCases { #expect(!exists(store.blobPath(Fixtures.digest(big), visibility))) }
        try Self.expectStillServing(store, kept: kept, fresh: Fixtures.randomBytes(1 << 20))
        let complete = try store.request("GET", "/upload/complete/sha512/\(Fixtures.digest(big).hex)", user: "up")
        #expect(complete.status == 202, "the dropped upload is no longer in flight: \(complete.statusLine)")
    }

    /// SIGTERM in the middle of a large upload, then the client gives up: the server exits 0, its temp file gone.
    @Test func aStopSignalMidwayThroughALargeUploadExitsCleanly() throws {
        let store = try Store(tokens: Self.uploader)
        let big = Fixtures.randomBytes(Self.large)
        var client: RawHTTPClient? = try Self.startUpload(store, big, sent: (3 << 20) + 12345)
        kill(store.server.pid, SIGTERM)
        #expect(store.server.waitForExit(timeout: 0.5) == nil, "the server waits for the request in flight")
        _ = client
        client = nil
        let ending = store.server.waitForExit(timeout: 20)
        #expect(ending == "exit 0", "ended with \(ending ?? "nothing yet"): \(store.server.stderr().suffix(2000))")
        #expect(store.temporaryFiles().isEmpty, "temp files left: \(store.temporaryFiles())")
    }

    /// A large upload that finds its digest stored with the other visibility only when it commits: 409 with the error
    /// body, its temp file gone, the other copy untouched.
    @Test func aLateVisibilityConflictOnALargeUploadIs409() throws {
        let store = try Store(tokens: Self.uploader)
        defer { store.server.stop() }
        let big = Fixtures.randomBytes(8 << 20)
        let client = try Self.startUpload(store, big, sent: (5 << 20) + 77, visibility: .public)
        #expect(try store.put(big, visibility: .internal, user: "up").status == 200, "stored as internal meanwhile")
        #expect(client.send(Array(big[((5 << 20) + 77)...])))
        expectError(try client.readResponse(), 409, .visibilityConflict)
        #expect(!exists(store.blobPath(Fixtures.digest(big), .public)))
        let whole = Fixtures.read(store.blobPath(Fixtures.digest(big), .internal)) == big
        #expect(whole, "the internal copy is untouched")
        let kept = Fixtures.randomBytes(1000)
        #expect(try store.put(kept, user: "up").status == 200)
        try Self.expectStillServing(store, kept: kept, fresh: Fixtures.randomBytes(1 << 20))
    }
}
