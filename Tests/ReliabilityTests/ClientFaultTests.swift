import Foundation
import Shared
import TestSupport
import Testing

/// Faults on the client's side of the wire, each with the real `tooltool` binary: a server serving a blob that was
/// corrupted on its disk, a cache entry cut short by a crash, a fetch killed with SIGKILL.
///
/// Stalls, cuts, wrong bytes from a fault server, 500-then-200 and redirects are in ClientTests/FetchFallbackTests
/// and RedirectAuthTests.
@Suite struct ClientFaultTests {
    static let environment = [
        "no_proxy": "*", "NO_PROXY": "*", "TOOLTOOL_RETRY_BASE_MS": "1", "TOOLTOOL_URL": "", "TOOLTOOL_CACHE": ""
    ]

    /// Runs `tooltool arguments...` in `directory`.
    static func tooltool(_ arguments: [String], in directory: String) throws -> ProcessResult {
        try ProcessRunner.run(Binaries.client, arguments, directory: directory, environment: environment, timeout: 120)
    }

    /// Writes a one-record manifest for `bytes` named `name`.
    static func manifest(_ bytes: [UInt8], name: String, in directory: String) throws {
        let record = ManifestRecord(filename: name, size: Int64(bytes.count), digest: Fixtures.digest(bytes))
        try Fixtures.write(Array(Manifest(records: [record]).serialized().utf8), to: directory + "/manifest.tt")
    }

    /// Files in `directory` whose name starts with `prefix`.
    static func files(in directory: String, prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix(prefix) }
    }

    /// A blob corrupted on the primary's disk (same size, other bytes): fsck names it, the server still serves it
    /// (GETs never re-hash), and the client refuses those bytes and takes the file from the mirror.
    @Test func corruptBlobIsFoundByFsckAndRefusedByTheClient() throws {
        let uploader: [String: [Permission]] = ["up": [.uploadPublic]]
        let primary = try Store(tokens: uploader), mirror = try Store(tokens: uploader)
        let bytes = Fixtures.randomBytes(300_000)
        let digest = Fixtures.digest(bytes)
        #expect(try primary.put(bytes, user: "up").status == 200)
        #expect(try mirror.put(bytes, user: "up").status == 200)
        var corrupted = bytes
        corrupted[150_000] ^= 0xff
        try Fixtures.write(corrupted, to: primary.blobPath(digest, .public))

        let fsck = try primary.command(["fsck"])
        #expect(fsck.status == 1, "\(fsck.stdout)")
        #expect(fsck.stdout.contains("corrupt\t\(primary.blobPath(digest, .public))"), "\(fsck.stdout)")

        let work = TemporaryDirectory(prefix: "fetch")
        try Self.manifest(bytes, name: "a.bin", in: work.path)
        let alone = try Self.tooltool(["fetch", "--url", primary.server.url, "--retries", "0"], in: work.path)
        #expect(alone.status == 1, "\(alone.stderr)")
        #expect(Fixtures.read(work.file("a.bin")) == nil, "wrong bytes never reach the final name")
        #expect(Self.files(in: work.path, prefix: ".a.bin").isEmpty, "no temp file left")

        let result = try Self.tooltool(
            ["fetch", "--url", primary.server.url, "--url", mirror.server.url], in: work.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("digest is"), "the mismatch is reported: \(result.stderr)")
        #expect(Fixtures.read(work.file("a.bin")) == bytes)
    }

    /// A cache entry cut short (a crash while something wrote it by hand, a full disk): detected, removed, downloaded
    /// again and replaced by a whole entry.
    @Test func truncatedCacheEntryIsReplaced() throws {
        let store = try Store(tokens: ["up": [.uploadPublic]])
        let bytes = Fixtures.randomBytes(200_000)
        #expect(try store.put(bytes, user: "up").status == 200)
        let cache = TemporaryDirectory(prefix: "cache"), work = TemporaryDirectory(prefix: "fetch")
        try Fixtures.write(Array(bytes.prefix(65_536)), to: cache.file(Fixtures.digest(bytes).hex))
        try Self.manifest(bytes, name: "a.bin", in: work.path)
        let result = try Self.tooltool(["fetch", "--url", store.server.url, "-c", cache.path], in: work.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("is corrupt"), "\(result.stderr)")
        #expect(Fixtures.read(work.file("a.bin")) == bytes)
        #expect(Fixtures.read(cache.file(Fixtures.digest(bytes).hex)) == bytes, "the entry is whole again")
    }

    /// `tooltool fetch` killed with SIGKILL mid-download: the download was an unnamed file (`O_TMPFILE`), so nothing
    /// is left under the final name or any other. A named temp file that a killed client left (one run where the
    /// folder's filesystem has no `O_TMPFILE`, or an older client) is removed by the next fetch, which succeeds.
    @Test func fetchKilledMidDownloadThenRunAgain() throws {
        let bytes = Fixtures.randomBytes(1 << 20)
        let stall = try StallServer(bytes: bytes, sendFirst: 300_000)
        defer { stall.stop() }
        let work = TemporaryDirectory(prefix: "fetch")
        try Self.manifest(bytes, name: "a.bin", in: work.path)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.client)
        process.arguments = ["fetch", "--url", stall.url]
        process.currentDirectoryURL = URL(fileURLWithPath: work.path)
        process.environment = ProcessInfo.processInfo.environment.merging(Self.environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let partial = eventually(timeout: 30) {
            Self.unnamedFileSizes(of: process.processIdentifier, in: work.path).contains { $0 >= 300_000 }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(partial, "the download was under way, in an unnamed file, when it was killed")
        #expect(Fixtures.read(work.file("a.bin")) == nil, "nothing under the final name")
        #expect(Self.files(in: work.path, prefix: ".a.bin.").isEmpty, "nothing under a temp name either")

        // What a killed client writing a named temp file leaves: `.NAME.PID.RANDOM.tmp`, its process gone.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let leftover = ".a.bin.\(gone.processIdentifier).k1llednow-0.tmp"
        try Data(bytes.prefix(300_000)).write(to: URL(fileURLWithPath: work.file(leftover)))

        let store = try Store(tokens: ["up": [.uploadPublic]])
        #expect(try store.put(bytes, user: "up").status == 200)
        let again = try Self.tooltool(["fetch", "--url", store.server.url], in: work.path)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(Fixtures.read(work.file("a.bin")) == bytes)
        #expect(try Self.tooltool(["validate"], in: work.path).status == 0)
        #expect(
            Self.files(in: work.path, prefix: ".a.bin.").isEmpty,
            "the killed run's temp file is removed: \(Self.files(in: work.path, prefix: ".a.bin."))")
        #expect(again.stderr.contains("removed 1 temp file(s) left in . by an interrupted fetch"), "\(again.stderr)")
    }

    /// The sizes of the files `pid` holds open in `folder` without a name there (`/proc/PID/fd` shows
    /// `FOLDER/#INODE (deleted)` for an `O_TMPFILE` file).
    private static func unnamedFileSizes(of pid: Int32, in folder: String) -> [Int64] {
        let fds = "/proc/\(pid)/fd"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: fds) else { return [] }
        return names.compactMap { name in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fds)/\(name)"),
                target.hasPrefix(folder + "/#"), target.hasSuffix(" (deleted)")
            else { return nil }
            var info = stat()
            return stat("\(fds)/\(name)", &info) == 0 ? Int64(info.st_size) : nil
        }
    }
}

/// A one-purpose HTTP server on 127.0.0.1: every request gets 200 announcing all of `bytes`, then only the first
/// `sendFirst` bytes, then silence until the client goes (bounded by 60 s per connection).
final class StallServer: Sendable {
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }
    private let fd: Int32
    private let stopped = StopFlag()

    init(bytes: [UInt8], sendFirst: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { close(fd); throw SetupError("cannot listen: \(errno)") }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.fd = fd
        let listener = fd, stopped = self.stopped
        Thread.detachNewThread {
            while !stopped.isSet {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                Thread.detachNewThread {
                    defer { close(client) }
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    _ = recv(client, &buffer, buffer.count, 0)
                    let head = Array(
                        "HTTP/1.1 200 OK\r\nContent-Length: \(bytes.count)\r\nContent-Type: application/octet-stream\r\n\r\n"
                            .utf8)
                    let out = head + bytes.prefix(sendFirst)
                    guard
                        out.withUnsafeBytes({ send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) })
                            == out.count
                    else { return }
                    for _ in 0..<600 {  // 60 s at most
                        var pfd = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
                        if poll(&pfd, 1, 100) > 0 && recv(client, &buffer, buffer.count, 0) <= 0 { return }
                    }
                }
            }
        }
    }

    /// Stops accepting.
    func stop() {
        stopped.set()
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

/// A flag set once from any thread.
final class StopFlag: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
