import Foundation
import Shared
import TestSupport
import Testing

/// Temp files of uploads cut by a crash (issue 11, item 2): swept at start-up and every `--sweep-interval` while
/// serving, whatever their age, while no live upload's temp file (of this process or another one on the same root)
/// is ever removed. Before the fix a restart within 60 s of the crash left them until some later restart.
@Suite struct TempFileSweepTests {
    static let uploader = ServerFaultTests.uploader
    /// Above the threaded-hashing size (4 MiB), as the runs were.
    static let large = 64 << 20

    /// An upload whose body goes out a piece at a time, at the test's pace, to a server on `port`.
    final class TrickledUpload {
        let bytes: [UInt8]
        let client: RawHTTPClient
        private(set) var sent = 0

        init(port: Int, token: String, bytes: [UInt8]) throws {
            self.bytes = bytes
            client = try RawHTTPClient(port: port, timeout: 60)
            guard client.send(ServerFaultTests.putHead(Fixtures.digest(bytes), length: bytes.count, token: token))
            else {
                throw SetupError("the server closed the connection before the body")
            }
        }

        /// Sends the body up to byte `end`; false when the server has closed the connection.
        @discardableResult
        func send(upTo end: Int) -> Bool {
            defer { sent = max(sent, end) }
            return end <= sent || client.send(Array(bytes[sent..<end]))
        }

        /// Sends the rest of the body and reads the answer.
        func finish() throws -> RawHTTPResponse {
            guard send(upTo: bytes.count) else { throw SetupError("the server closed the connection mid-body") }
            return try client.readResponse()
        }
    }

    /// The `.tmp/` entries of `root` (heartbeat probes excluded).
    static func temporaryFiles(_ root: String) -> Set<String> {
        Set(
            ((try? FileManager.default.contentsOfDirectory(atPath: root + "/.tmp")) ?? []).filter {
                !$0.hasPrefix("heartbeat-")
            })
    }

    /// The size of `.tmp/NAME`, nil when it is gone.
    static func size(_ root: String, _ name: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: "\(root)/.tmp/\(name)")[.size]) as? Int
    }

    /// Starts an upload of `bytes` to the server on `port` with the body up to `sent` bytes and returns it with the
    /// name of the temp file it got, once the server has written them all.
    static func start(
        port: Int, token: String, _ bytes: [UInt8], root: String, sent: Int
    ) throws -> (TrickledUpload, String) {
        let before = temporaryFiles(root)
        let upload = try TrickledUpload(port: port, token: token, bytes: bytes)
        #expect(upload.send(upTo: sent))
        var name: String?
        let arrived = eventually(timeout: 30) {
            name = temporaryFiles(root).subtracting(before).first
            return name.map { size(root, $0) == sent } ?? false
        }
        guard arrived, let name else {
            let sizes = temporaryFiles(root).map { "\($0): \(size(root, $0) ?? -1)" }
            throw SetupError("the server did not write the first \(sent) bytes to a temp file; .tmp/ has \(sizes)")
        }
        #expect(name.hasSuffix(".upload"), "a live upload's temp file has its locked name: \(name)")
        return (upload, name)
    }

    /// Puts an unlocked `.upload` file (a crashed writer's, as far as anyone can tell) into `.tmp/` and waits until a
    /// sweep has removed it; false when none did within `timeout` seconds.
    static func plantAndAwaitSweep(_ root: String, timeout: TimeInterval = 30) throws -> Bool {
        let path = "\(root)/.tmp/0123456789abcdef-\(UUID().uuidString.lowercased()).upload"
        try Fixtures.write(Fixtures.randomBytes(4096), to: path)
        return eventually(timeout: timeout) { !FileManager.default.fileExists(atPath: path) }
    }

    /// The number of temp files a server said it removed, summed over its `removed N stale temp file(s)` lines.
    static func removedCount(_ log: String) -> Int {
        log.split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: "removed ") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }.reduce(0, +)
    }

    /// The steps: `kill -9` with large uploads in flight at 40 % of the body and at 100 % (whole body written,
    /// the server stalled before its answer by the test build's `stall` fault), then a restart at once on the same
    /// root. No stale temp file remains, the killed uploads are nowhere, and the new process's own slow upload lives
    /// through several periodic sweeps (which do run: a planted stale file goes) and ends with 200 and its bytes.
    @Test func killNineAt40And100PercentThenRestartLeavesNoStaleTempFile() throws {
        let store = try Store(tokens: Self.uploader, environment: ["TOOLTOOL_TEST_STORAGE_FAULTS": "none,stall:120"])
        let token = try #require(store.tokens["up"])
        var base = Fixtures.randomBytes(Self.large)
        let partial = base
        base[0] &+= 1
        let whole = base
        let atForty = try Self.start(
            port: store.port, token: token, partial, root: store.root, sent: Self.large * 4 / 10)
        let atHundred = try Self.start(port: store.port, token: token, whole, root: store.root, sent: Self.large)
        #expect(store.server.stderr().contains("injecting storage faults"), "the test build read the plan")

        #expect(!atHundred.0.client.hasInput(within: 0.2), "the whole body is in, its answer not out yet")
        store.server.kill9()
        withExtendedLifetime(atForty) {}
        let leftovers = Self.temporaryFiles(store.root)
        #expect(leftovers.count == 2, "the killed server left its two temp files: \(leftovers)")

        let restarted = try ServerProcess(root: store.root, arguments: ["--sweep-interval", "1"])
        defer { restarted.stop() }
        #expect(
            eventually(timeout: 60) { Self.temporaryFiles(store.root).isEmpty },
            "stale temp files left: \(Self.temporaryFiles(store.root))")
        #expect(Self.removedCount(restarted.stderr()) == 2, "\(restarted.stderr())")
        for bytes in [partial, whole] {
            let digest = Fixtures.digest(bytes)
            for visibility in Visibility.allCases { #expect(!exists(store.blobPath(digest, visibility))) }
            let get = try RawHTTPClient(port: restarted.port).request("GET", "/sha512/\(digest.hex)")
            #expect(get.status == 404, "a killed upload is nowhere: \(get.statusLine)")
        }

        // The new process's own upload, trickled across several sweeps, is never taken by them.
        let own = Fixtures.randomBytes(8 << 20)
        let (trickle, name) = try Self.start(port: restarted.port, token: token, own, root: store.root, sent: 1 << 20)
        for step in 2...5 {
            #expect(try Self.plantAndAwaitSweep(store.root), "a periodic sweep ran (step \(step))")
            #expect(
                Self.size(store.root, name) == trickle.sent, "the live upload's temp file is still there (step \(step))"
            )
            #expect(trickle.send(upTo: step << 20))
        }
        let answer = try trickle.finish()
        #expect(answer.status == 200, "\(answer.statusLine) \(answer.text)")
        #expect(answer.text.contains("\"new\":true"), "\(answer.text)")
        let stored = Fixtures.read(store.blobPath(Fixtures.digest(own), .public))
        #expect(stored == own, "the upload is stored whole")
        #expect(Self.removedCount(restarted.stderr()) == 2 + 4, "only the leftovers and the planted files were removed")
        #expect(Self.temporaryFiles(store.root).isEmpty)
    }

    /// Two servers on one root, each sweeping every second: neither removes the other's live upload (nor its own),
    /// both uploads end with 200; when one server is then killed mid-upload, the other's periodic sweep removes the
    /// dead upload's temp file while it keeps serving.
    @Test func aSecondServerOnTheSameRootNeverRemovesTheFirstOnesLiveUploads() throws {
        let store = try Store(tokens: Self.uploader, arguments: ["--sweep-interval", "1"])
        defer { store.server.stop() }
        let token = try #require(store.tokens["up"])
        let second = try ServerProcess(
            root: store.root, arguments: ["--sweep-interval", "1"], logName: "second-stderr.log")
        defer { second.stop() }

        let (first, firstName) = try Self.start(
            port: store.port, token: token, Fixtures.randomBytes(Self.large),
            root: store.root, sent: 3 << 20)
        let (other, otherName) = try Self.start(
            port: second.port, token: token, Fixtures.randomBytes(6 << 20),
            root: store.root, sent: 1 << 20)
        // Plant stale files until each server has swept at least one while both uploads were live (bounded).
        var rounds = 0
        while rounds < 30, Self.removedCount(store.server.stderr()) == 0 || Self.removedCount(second.stderr()) == 0 {
            rounds += 1
            #expect(try Self.plantAndAwaitSweep(store.root), "round \(rounds): a sweep ran")
            #expect(
                Self.size(store.root, firstName) == first.sent, "round \(rounds): the first server's upload is there")
            #expect(
                Self.size(store.root, otherName) == other.sent, "round \(rounds): the second server's upload is there")
            #expect(first.send(upTo: min(first.sent + (2 << 20), Self.large - 1)))
            #expect(other.send(upTo: min(other.sent + (1 << 19), other.bytes.count - 1)))
        }
        #expect(
            Self.removedCount(store.server.stderr()) > 0 && Self.removedCount(second.stderr()) > 0,
            "both servers swept while both uploads were live")
        for (upload, label) in [(first, "first"), (other, "second")] {
            let answer = try upload.finish()
            #expect(answer.status == 200, "\(label): \(answer.statusLine) \(answer.text)")
            let stored = Fixtures.read(store.blobPath(Fixtures.digest(upload.bytes), .public))
            #expect(stored == upload.bytes, "\(label): stored whole")
        }

        // The second server dies mid-upload; the first one's periodic sweep takes the leftover while it serves.
        let (dying, dyingName) = try Self.start(
            port: second.port, token: token, Fixtures.randomBytes(Self.large),
            root: store.root, sent: Self.large * 4 / 10)
        let before = Self.removedCount(store.server.stderr())
        second.kill9()
        withExtendedLifetime(dying) {}
        #expect(
            eventually(timeout: 60) { Self.size(store.root, dyingName) == nil }, "the dead server's temp file is swept")
        #expect(eventually { Self.removedCount(store.server.stderr()) > before }, "by the first server")
        #expect(Self.temporaryFiles(store.root).isEmpty, "\(Self.temporaryFiles(store.root))")
        #expect(store.server.isRunning)
        let kept = Fixtures.randomBytes(1 << 20)
        #expect(try store.put(kept, user: "up").status == 200)
        #expect(store.serves(kept))
    }
}
