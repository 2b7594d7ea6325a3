import Foundation
import Shared
import TestSupport
import Testing

/// Faults injected into a real `tooltool-server`: clients that vanish, a server killed with SIGKILL, a full disk,
/// racing writers, a blob corrupted behind the server's back. Each checks what a user or an admin would see.
@Suite struct ServerFaultTests {
    static let uploader: [String: [Permission]] = [
        "up": [.uploadPublic, .uploadInternal, .downloadInternal],
        "admin": [.manage, .downloadInternal, .uploadPublic, .uploadInternal]
    ]

    /// A PUT's head, for sending a body by hand.
    static func putHead(_ digest: Digest, length: Int, token: String, visibility: Visibility = .public) -> [UInt8] {
        Array(
            ("PUT /sha512/\(digest.hex)?visibility=\(visibility.rawValue) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer \(token)\r\nContent-Length: \(length)\r\n\r\n").utf8)
    }

    /// A client that sends half a body and then goes silent (a dead network, not a close) loses its upload once
    /// `--body-timeout` passes: the temp file goes, nothing appears under the final name, the server keeps serving.
    /// (A client that closes mid-body: ServerTests/BlobPutTests.truncatedBodyIsDroppedAndItsTempFileRemoved.)
    @Test func clientSilentMidUploadLosesTheUploadAfterTheBodyTimeout() throws {
        let store = try Store(tokens: Self.uploader, arguments: ["--body-timeout", "1"], anyBackend: true)
        let bytes = Fixtures.randomBytes(TestStore.sizeSeenInProgress(atLeast: 1 << 20))
        let digest = Fixtures.digest(bytes)
        let client = try RawHTTPClient(port: store.port, timeout: 20)
        #expect(
            client.send(
                Self.putHead(digest, length: bytes.count, token: store.tokens["up"]!) + bytes[..<(bytes.count / 2)]))
        #expect(eventually { !store.temporaryFiles().isEmpty }, "the upload started")
        // The client stays connected and says nothing more; the server must give up on its own.
        #expect(
            eventually(timeout: 20) { store.temporaryFiles().isEmpty }, "temp files left: \(store.temporaryFiles())")
        #expect(client.isClosedByPeer(), "the stalled connection is closed")
        for visibility in Visibility.allCases { #expect(!store.stored.contains(digest, visibility)) }
        #expect(try store.request("GET", "/sha512/\(digest.hex)").status == 404)
        #expect(try store.put(bytes, user: "up").status == 200, "the same upload then succeeds")
        #expect(store.serves(bytes))
    }

    /// SIGKILL while uploads are in flight, then a restart on the same root: the in-flight ones are nowhere, their
    /// temp files are swept, every upload answered 200 before the kill is present and whole, and fsck finds the
    /// index already agreeing with the folders.
    @Test func killNineDuringUploadsThenRestart() throws {
        let store = try Store(tokens: Self.uploader)
        let token = store.tokens["up"]!
        // Uploads answered before the kill, some public, some pvt.
        let done = (0..<6).map { _ in Fixtures.randomBytes(Int.random(in: 1...(3 << 20))) }
        let answers = inParallel(done.count) { index in
            (try? store.put(done[index], visibility: index % 2 == 0 ? .public : .internal, user: "up"))?.status ?? 0
        }
        #expect(answers.allSatisfy { $0 == 200 }, "statuses: \(answers)")
        // Uploads in flight at the kill: heads and half their bodies sent.
        let inFlight = (0..<6).map { _ in Fixtures.randomBytes(2 << 20) }
        var clients: [RawHTTPClient] = []
        for bytes in inFlight {
            let client = try RawHTTPClient(port: store.port)
            #expect(
                client.send(
                    Self.putHead(Fixtures.digest(bytes), length: bytes.count, token: token) + bytes[..<(1 << 20)]))
            clients.append(client)
        }
        // Each upload's temp file has its locked `.upload` name: a kill in the instant between a `.new` file's creation
        // and its rename would leave a `.new` file that the restart rightly keeps for its grace period.
        #expect(
            eventually { store.temporaryFiles().filter { $0.hasSuffix(".upload") }.count == inFlight.count },
            "temp files: \(store.temporaryFiles())")

        store.server.kill9()
        clients.removeAll()
        let leftovers = store.temporaryFiles()
        #expect(leftovers.count == inFlight.count, "a killed server leaves its temp files: \(leftovers)")
        // Restarted at once: the leftovers are seconds old, and their free locks are enough to remove them.
        try store.restart()

        #expect(store.temporaryFiles().isEmpty, "stale temp files swept: \(store.temporaryFiles())")
        #expect(
            store.server.stderr().contains("removed \(inFlight.count) stale temp file(s)"), "\(store.server.stderr())")
        for bytes in inFlight {
            let digest = Fixtures.digest(bytes)
            for visibility in Visibility.allCases { #expect(!exists(store.blobPath(digest, visibility))) }
            #expect(try store.request("GET", "/sha512/\(digest.hex)", user: "up").status == 404)
        }
        for (index, bytes) in done.enumerated() {
            let digest = Fixtures.digest(bytes)
            let get = try store.request("GET", "/sha512/\(digest.hex)", user: "up")
            #expect(get.status == 200 && get.body == bytes, "acknowledged upload \(index) is whole after the crash")
            let file = try store.request("GET", "/file/sha512/\(digest.hex)", user: "up").json()["result"]
            #expect(file?["has_instances"]?.boolValue == true)
            #expect(file?["visibility"]?.stringValue == (index % 2 == 0 ? "public" : "internal"))
        }
        store.server.stop()
        let fsck = try store.command(["fsck"])
        #expect(fsck.status == 0, "fsck: \(fsck.stdout) \(fsck.stderr)")
        #expect(fsck.stdout.contains("verified \(done.count) blob(s); 0 corrupt, 0 stray; clean"), "\(fsck.stdout)")
        #expect(
            !fsck.stdout.contains("indexed") && !fsck.stdout.contains("reconciled"),
            "the index already agreed with the folders: \(fsck.stdout)")
    }

    /// A full disk (an 8 MiB tmpfs as the root): 507 with the error body, the temp file removed, GETs still served,
    /// and uploads work again once an admin frees space.
    @Test func diskFullGives507AndRecovers() throws {
        let mountPoint = TemporaryDirectory(prefix: "tmpfs")
        guard system("mount -t tmpfs -o size=8m tmpfs '\(mountPoint.path)' 2>/dev/null") == 0 else {
            print("diskFullGives507AndRecovers: skipped: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
            try Test.cancel("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN); disk-full path not exercised")
        }
        defer { _ = system("umount -l '\(mountPoint.path)'") }
        let store = try Store(root: mountPoint.path, tokens: Self.uploader)
        defer { store.server.stop() }
        let first = Fixtures.randomBytes(3 << 20), second = Fixtures.randomBytes(3 << 20),
            third = Fixtures.randomBytes(3 << 20)
        #expect(try store.put(first, user: "up").status == 200)
        #expect(try store.put(second, user: "up").status == 200)

        let full = try store.put(third, user: "up")
        expectError(full, 507, .insufficientStorage)
        #expect(eventually { store.temporaryFiles().isEmpty }, "temp files left: \(store.temporaryFiles())")
        for visibility in Visibility.allCases { #expect(!exists(store.blobPath(Fixtures.digest(third), visibility))) }
        #expect(store.serves(first) && store.serves(second), "GETs keep working on a full disk")

        // An admin frees space through the API; the refused upload then goes through.
        let patch = try store.request(
            "PATCH", "/file/sha512/\(Fixtures.digest(second).hex)", user: "admin",
            headers: [("Content-Type", "application/json")],
            body: Array(#"[{"op": "delete_instances"}]"#.utf8))
        #expect(patch.status == 200, "\(patch.text)")
        let retry = try store.put(third, user: "up")
        #expect(retry.status == 200, "\(retry.text)")
        #expect(store.serves(third) && store.serves(first))
    }

    /// A blob removed by hand behind the server's back: fsck brings the index in line (the folders are the truth),
    /// so the file is no longer counted or listed as stored; a second fsck finds nothing left to correct.
    @Test func blobRemovedByHandIsReconciledByFsck() throws {
        let store = try Store(tokens: Self.uploader, anyBackend: true)
        let kept = Fixtures.randomBytes(1000), removed = Fixtures.randomBytes(2000)
        #expect(try store.put(kept, user: "up").status == 200)
        #expect(try store.put(removed, user: "up").status == 200)
        let digest = Fixtures.digest(removed)
        try store.stored.remove(digest, .public)
        store.server.stop()
        let fsck = try store.command(["fsck"])
        #expect(fsck.status == 0, "\(fsck.stdout)")
        #expect(fsck.stdout.contains("reconciled\t\(digest.hex)"), "\(fsck.stdout)")
        #expect(!fsck.stdout.contains(Fixtures.digest(kept).hex), "\(fsck.stdout)")
        let again = try store.command(["fsck"])
        #expect(again.status == 0 && !again.stdout.contains("reconciled"), "\(again.stdout)")
        try store.restart()
        let metrics = try store.request("GET", "/metrics").text
        #expect(metrics.contains("tooltool_files{visibility=\"public\"} 1"), "\(metrics)")
    }

    /// 16 PUTs of one digest at once, racing PATCH visibility switches and deletes: every answer is one the API
    /// allows, and at the end there is at most one whole file, in the folder the index names.
    @Test func parallelPutsRacingVisibilitySwitchesAndDeletes() throws {
        let store = try Store(tokens: Self.uploader, anyBackend: true)
        let bytes = Fixtures.randomBytes(1 << 20)
        let digest = Fixtures.digest(bytes)
        #expect(try store.put(bytes, user: "up").status == 200, "the file is known before the race")
        let operations = [
            #"[{"op": "set_visibility", "visibility": "internal"}]"#, #"[{"op": "delete_instances"}]"#,
            #"[{"op": "set_visibility", "visibility": "public"}]"#
        ]
        let results = inParallel(16 + 6) { index -> (String, Int, APIErrorName?) in
            if index < 16 {
                let response = try? store.put(bytes, visibility: .public, user: "up")
                return ("PUT", response?.status ?? 0, response?.errorName)
            }
            let body = operations[index % operations.count]
            let response = try? store.request(
                "PATCH", "/file/sha512/\(digest.hex)", user: "admin",
                headers: [("Content-Type", "application/json")], body: Array(body.utf8))
            return ("PATCH", response?.status ?? 0, response?.errorName)
        }
        for (kind, status, name) in results {
            switch (kind, status) {
            case ("PUT", 200), ("PATCH", 200): break
            case ("PUT", 409): #expect(name == .visibilityConflict)
            case ("PATCH", 409): #expect(name == .uploadInProgress)
            default: Issue.record("\(kind) answered \(status) \(name?.rawValue ?? "no known error name")")
            }
        }
        try Self.expectConsistent(store, bytes)
    }

    /// PUTs racing the offline `tooltool-server visibility` command (another process, which the server's in-process
    /// locks do not cover): never a blob in both folders, never a torn file.
    @Test func putsRacingTheVisibilityCommand() throws {
        let store = try Store(tokens: Self.uploader, anyBackend: true)
        for round in 0..<4 {
            let bytes = Fixtures.randomBytes(256 << 10)
            let digest = Fixtures.digest(bytes)
            #expect(try store.put(bytes, visibility: .public, user: "up").status == 200)
            let results = inParallel(9) { index -> Int in
                if index == 0 {
                    let moved = try? store.command(["visibility", digest.hex, "internal"])
                    return Int(moved?.status ?? -1)
                }
                return (try? store.put(bytes, visibility: .public, user: "up"))?.status ?? 0
            }
            #expect(results[0] == 0, "round \(round): the visibility command failed")
            #expect(results.dropFirst().allSatisfy { $0 == 200 || $0 == 409 }, "round \(round): \(results)")
            let inPublic = store.stored.contains(digest, .public), inPvt = store.stored.contains(digest, .internal)
            #expect(!inPublic && inPvt, "round \(round): public \(inPublic), pvt \(inPvt)")
            #expect(store.stored.bytes(digest, .internal) == bytes)
        }
        store.server.stop()
        let fsck = try store.command(["fsck"])
        #expect(fsck.status == 0, "\(fsck.stdout)")
    }

    /// At most one whole copy of `bytes`, and the index (`GET /file`) and fsck agree with the folders.
    static func expectConsistent(
        _ store: Store, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let digest = Fixtures.digest(bytes)
        let inPublic = store.stored.contains(digest, .public), inPvt = store.stored.contains(digest, .internal)
        #expect(!(inPublic && inPvt), "never in both folders", sourceLocation: sourceLocation)
        for visibility in Visibility.allCases where store.stored.contains(digest, visibility) {
            #expect(store.stored.bytes(digest, visibility) == bytes, "whole file", sourceLocation: sourceLocation)
        }
        #expect(eventually { store.temporaryFiles().isEmpty }, sourceLocation: sourceLocation)
        let file = try store.request("GET", "/file/sha512/\(digest.hex)", user: "admin").json()["result"]
        #expect(
            file?["has_instances"]?.boolValue == (inPublic || inPvt), "index: \(String(describing: file))",
            sourceLocation: sourceLocation)
        if inPublic || inPvt {
            #expect(
                file?["visibility"]?.stringValue == (inPublic ? "public" : "internal"),
                "index: \(String(describing: file))",
                sourceLocation: sourceLocation)
        }
        let get = try store.request("GET", "/sha512/\(digest.hex)", user: "admin")
        #expect(get.status == (inPublic || inPvt ? 200 : 404), sourceLocation: sourceLocation)
        if get.status == 200 { #expect(get.body == bytes, sourceLocation: sourceLocation) }
        let fsck = try store.command(["fsck"])
        #expect(fsck.status == 0, "\(fsck.stdout)", sourceLocation: sourceLocation)
        #expect(
            !fsck.stdout.contains("reconciled") && !fsck.stdout.contains("indexed"), "\(fsck.stdout)",
            sourceLocation: sourceLocation)
    }
}
