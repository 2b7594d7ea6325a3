import Foundation
import Shared
import TestSupport
import Testing

/// Downloads written to unnamed temp files (`O_TMPFILE`, issue 17): nothing of a file in progress is visible in the
/// target's folder, a killed fetch leaves nothing behind, and a finished one is linked under its final name (and
/// into the cache) as the very file that was verified. The test folders live on a filesystem with `O_TMPFILE`
/// (ext4 or tmpfs); on one without, the client falls back to named temp files and the first test fails, saying so.
@Suite struct UnnamedDownloadTests {
    /// The files `pid` holds open in `folder` that have no name there (`/proc/PID/fd` shows `FOLDER/#INODE
    /// (deleted)` for them), with their sizes.
    private static func unnamedFiles(of pid: Int32, in folder: String) -> [Int64] {
        let fds = "/proc/\(pid)/fd"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: fds) else { return [] }
        var sizes: [Int64] = []
        for name in names {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fds)/\(name)"),
                target.hasPrefix(folder + "/#"), target.hasSuffix(" (deleted)")
            else { continue }
            var info = stat()
            if stat("\(fds)/\(name)", &info) == 0 { sizes.append(Int64(info.st_size)) }
        }
        return sizes
    }

    @Test func aDownloadInProgressHasNoNameAndAKillLeavesNothing() throws {
        let blob = Blob("a.bin", size: 100_000)
        let staller = try FaultServer { _ in .stall(blob.bytes, after: 40_000) }
        let dir = TemporaryDirectory(prefix: "unnamed")
        try Client.writeManifest([blob.record()], in: dir.path)
        let process = try Client.start(
            ["fetch", "--url", staller.url, "--timeout", "30", "--retries", "0"], in: dir.path)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Bounded: 40,000 bytes reach the temp file within 20 s, or the test fails.
        var sizes: [Int64] = []
        for _ in 0..<400 {
            sizes = Self.unnamedFiles(of: process.processIdentifier, in: dir.path)
            if sizes == [40_000] { break }
            usleep(50_000)
        }
        #expect(sizes == [40_000], "the client holds one unnamed file with the bytes received so far: \(sizes)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["manifest.tt"],
            "nothing of the download in progress is visible")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["manifest.tt"],
            "a killed fetch leaves nothing behind")
        staller.stop()

        let honest = try Client.blobServer([blob])
        let again = try Client.run(["fetch", "--url", honest.url], in: dir.path)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        #expect(!again.stderr.contains("temp file"), "nothing was left to clean up: \(again.stderr)")
    }

    @Test func anInvalidFileIsReplacedOnlyByTheVerifiedOne() throws {
        let blob = Blob("a.bin", size: 50_000)
        let server = try Client.blobServer([blob])
        let dir = TemporaryDirectory(prefix: "unnamed")
        try Client.writeManifest([blob.record()], in: dir.path)
        try Fixtures.write(Array("not the blob".utf8), to: dir.path + "/a.bin")
        let result = try Client.run(["fetch", "--url", server.url], in: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("a.bin is not valid"), "\(result.stderr)")
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        #expect(try FileSystemProbe.strayTemporaries(dir.path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["a.bin", "manifest.tt"])
    }

    @Test func aWrongBodyNeverGetsAName() throws {
        let blob = Blob("a.bin", size: 50_000)
        let liar = try FaultServer { _ in .blob(Fixtures.randomBytes(50_000)) }
        let dir = TemporaryDirectory(prefix: "unnamed")
        let cache = TemporaryDirectory(prefix: "unnamed-cache")
        try Client.writeManifest([blob.record()], in: dir.path)
        let result = try Client.run(["fetch", "--url", liar.url, "-c", cache.path, "--retries", "0"], in: dir.path)
        #expect(result.status == 1)
        #expect(result.stderr.contains("digest is"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["manifest.tt"])
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { !$0.hasPrefix(".") }.isEmpty,
            "no cache entry for bytes that did not verify")
    }

    @Test func theCacheEntryIsTheVerifiedFileItself() throws {
        let blobs = (0..<4).map { Blob("f\($0).bin", size: 16_384 + $0) }
        let server = try Client.blobServer(blobs)
        let dir = TemporaryDirectory(prefix: "unnamed")
        let cache = TemporaryDirectory(prefix: "unnamed-cache")
        try Client.writeManifest(blobs.map { $0.record() }, in: dir.path)
        let result = try Client.run(["fetch", "--url", server.url, "-c", cache.path], in: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        for blob in blobs {
            #expect(Client.holds(dir.path, blob.name, blob.bytes))
            #expect(Client.holds(cache.path, blob.digest.hex, blob.bytes))
            var target = stat()
            var entry = stat()
            #expect(
                lstat(dir.path + "/" + blob.name, &target) == 0
                    && lstat(cache.path + "/" + blob.digest.hex, &entry) == 0)
            #expect(target.st_ino == entry.st_ino && target.st_nlink == 2, "one file, two names: \(blob.name)")
        }
        #expect(try FileSystemProbe.strayTemporaries(dir.path).isEmpty)
        #expect(try FileSystemProbe.strayTemporaries(cache.path).isEmpty)
    }
}
