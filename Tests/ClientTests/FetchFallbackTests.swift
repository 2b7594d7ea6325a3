import Foundation
import Shared
import TestSupport
import Testing

/// Fetch: server fallback for every kind of failure, retries, Retry-After, resume.
@Suite struct FetchFallbackTests {
    private func fetch(
        _ blob: Blob, urls: [String], extra: [String] = [], dir: TemporaryDirectory
    ) throws -> ProcessResult {
        try Client.writeManifest([blob.record()], in: dir.path)
        return try Client.run(["fetch"] + urls.flatMap { ["--url", $0] } + extra, in: dir.path)
    }

    @Test func firstURLDownFallsBackToTheSecond() throws {
        let blob = Blob("a.bin", size: 200_000)
        let server = try Client.blobServer([blob])
        let dir = TemporaryDirectory(prefix: "fetch")
        let result = try fetch(blob, urls: [try Client.deadURL(), server.url], extra: ["--retries", "1"], dir: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        #expect(result.stderr.contains("WARNING - a.bin: http://127.0.0.1:"))
        #expect(result.stderr.contains("INFO - fetched 1 of 1 files"))
        #expect(try FileSystemProbe.strayTemporaries(dir.path).isEmpty)
    }

    @Test func wrongBytesFromTheFirstServerFallBack() throws {
        let blob = Blob("a.bin", size: 100_000)
        let liar = try FaultServer { _ in .blob(Fixtures.randomBytes(100_000)) }
        let honest = try Client.blobServer([blob])
        let dir = TemporaryDirectory(prefix: "fetch")
        let result = try fetch(blob, urls: [liar.url, honest.url], dir: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        #expect(result.stderr.contains("\(liar.url) failed: digest is"))
        #expect(liar.requests.count == 1, "a digest mismatch is not retried on the same server")
    }

    @Test func oversizedAnswerIsRefusedEarly() throws {
        let blob = Blob("a.bin", size: 1000)
        let liar = try FaultServer { _ in .blob(Fixtures.randomBytes(5000)) }
        let dir = TemporaryDirectory(prefix: "fetch")
        let result = try fetch(blob, urls: [liar.url], dir: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains("server announced 5000 bytes, expected 1000"))
        #expect(result.stderr.contains("ERROR - failed to fetch: a.bin"))
        #expect(Client.holds(dir.path, "a.bin", nil))
        #expect(try FileSystemProbe.strayTemporaries(dir.path).isEmpty)
    }

    @Test func stalledServerTimesOutAndFallsBack() throws {
        let blob = Blob("a.bin", size: 100_000)
        let staller = try FaultServer { _ in .stall(blob.bytes, after: 1000) }
        let honest = try Client.blobServer([blob])
        let dir = TemporaryDirectory(prefix: "fetch")
        let (result, seconds) = try measure {
            try fetch(blob, urls: [staller.url, honest.url], extra: ["--timeout", "1", "--retries", "0"], dir: dir)
        }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        #expect(seconds < 15, "stall detection took \(seconds) s")
        #expect(result.stderr.contains("\(staller.url) failed"))
    }

    @Test func serverErrorThenSuccessIsRetried() throws {
        let blob = Blob("a.bin", size: 10_000)
        let flaky = try FaultServer { request in
            request.index == 0 ? .respond(status: 500, headers: [], body: Array("oops".utf8)) : .blob(blob.bytes)
        }
        let dir = TemporaryDirectory(prefix: "fetch")
        let result = try fetch(blob, urls: [flaky.url], dir: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(flaky.requests.count == 2)
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
    }

    @Test func notFoundMovesOnWithoutRetrying() throws {
        let blob = Blob("a.bin", size: 10)
        let empty = try Client.blobServer([])
        let dir = TemporaryDirectory(prefix: "fetch")
        let result = try fetch(blob, urls: [empty.url], dir: dir)
        #expect(result.status == 1)
        #expect(empty.requests.count == 1)
        #expect(result.stderr.contains("HTTP 404: no such blob"), "\(result.stderr)")
    }

    @Test func retryAfterIsHonoured() throws {
        let blob = Blob("a.bin", size: 1000)
        let busy = try FaultServer { request in
            request.index == 0 ? .respond(status: 503, headers: [("Retry-After", "1")], body: []) : .blob(blob.bytes)
        }
        let dir = TemporaryDirectory(prefix: "fetch")
        let (result, seconds) = try measure { try fetch(blob, urls: [busy.url], dir: dir) }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(seconds >= 1.0, "waited only \(seconds) s despite Retry-After: 1")
        #expect(busy.requests.count == 2)
    }

    @Test func aFailingFirstServerIsTriedOnceBeforeTheNext() throws {
        // Backoff comes between rounds over all servers, so a broken first server costs one attempt, not a schedule.
        let blob = Blob("a.bin", size: 50_000)
        let broken = try FaultServer { _ in .respond(status: 503, headers: [], body: []) }
        let honest = try Client.blobServer([blob])
        let dir = TemporaryDirectory(prefix: "fetch")
        let result = try fetch(blob, urls: [broken.url, honest.url], extra: ["--retries", "4"], dir: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        #expect(broken.requests.count == 1)
    }

    @Test func resumeContinuesOnTheNextServer() throws {
        // The content is named by its digest, so the bytes one server delivered before a cut are kept.
        let blob = Blob("a.bin", size: 300_000)
        let cutter = try FaultServer { _ in .cut(blob.bytes, after: 100_000) }
        let second = try FaultServer { _ in .blob(blob.bytes) }
        let dir = TemporaryDirectory(prefix: "fetch")
        let result = try fetch(blob, urls: [cutter.url, second.url], dir: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        #expect(cutter.requests.count == 1)
        let range = try #require(second.requests.first?.header("Range"))
        #expect(range.hasPrefix("bytes=") && range != "bytes=0-", "resumed at \(range)")
    }

    @Test func retriesAreBoundedPerServer() throws {
        let blob = Blob("a.bin", size: 10)
        let broken = try FaultServer { _ in .respond(status: 502, headers: [], body: []) }
        let dir = TemporaryDirectory(prefix: "fetch")
        let result = try fetch(blob, urls: [broken.url], extra: ["--retries", "2"], dir: dir)
        #expect(result.status == 1)
        #expect(broken.requests.count == 3)
        #expect(result.stderr.contains("could not be fetched from any server"))
    }

    @Test func resumeAfterACutAsksForTheRest() throws {
        let blob = Blob("a.bin", size: 300_000)
        let cutter = try FaultServer { request in
            request.index == 0 ? .cut(blob.bytes, after: 120_000) : .blob(blob.bytes)
        }
        let dir = TemporaryDirectory(prefix: "fetch")
        let result = try fetch(blob, urls: [cutter.url], extra: ["-v"], dir: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        let requests = cutter.requests
        #expect(requests.count == 2)
        let range = try #require(requests.last?.header("Range"))
        #expect(range.hasPrefix("bytes="))
        let start = Int(range.dropFirst(6).dropLast()) ?? -1
        #expect(start > 0 && start <= 120_000, "resumed at \(range)")
    }

    @Test func resumeIgnoredByTheServerStartsOver() throws {
        let blob = Blob("a.bin", size: 300_000)
        let cutter = try FaultServer { request in
            request.index == 0 ? .cut(blob.bytes, after: 100_000) : .blobIgnoringRange(blob.bytes)
        }
        let dir = TemporaryDirectory(prefix: "fetch")
        let result = try fetch(blob, urls: [cutter.url], dir: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        #expect(cutter.requests.last?.header("Range") != nil)
    }

    @Test func wrongContentRangeIsNotUsed() throws {
        let blob = Blob("a.bin", size: 50_000)
        let liar = try FaultServer { request in
            switch request.index {
            case 0: return .cut(blob.bytes, after: 20_000)
            case 1: return .respond(status: 206, headers: [("Content-Range", "bytes 0-49999/50000")], body: blob.bytes)
            default: return .blob(blob.bytes)
            }
        }
        let dir = TemporaryDirectory(prefix: "fetch")
        let result = try fetch(blob, urls: [liar.url], extra: ["-v"], dir: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        #expect(liar.requests.count == 3)
        #expect(liar.requests[2].header("Range") == nil, "after a bad Content-Range the download starts over")
    }

    @Test func invalidLocalFileIsReplacedAndValidOneKept() throws {
        let blob = Blob("a.bin", size: 1000)
        let server = try Client.blobServer([blob])
        let dir = TemporaryDirectory(prefix: "fetch")
        try Fixtures.write(Fixtures.randomBytes(1000), to: dir.file("a.bin"))
        #expect(try fetch(blob, urls: [server.url], dir: dir).status == 0)
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        let again = try fetch(blob, urls: [server.url], dir: dir)
        #expect(again.status == 0)
        #expect(server.requests.count == 1)
        #expect(again.stderr.contains("1 already present"))
    }

    @Test func parallelFetchOfManyFilesNamesEveryFailure() throws {
        let blobs = (0..<12).map { Blob("f\($0).bin", size: 20_000 + $0) }
        let server = try Client.blobServer(Array(blobs.prefix(10)))
        let dir = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest(blobs.map { $0.record() }, in: dir.path)
        let result = try Client.run(["fetch", "-j", "6", "--url", server.url], in: dir.path)
        #expect(result.status == 1)
        #expect(result.stderr.contains("ERROR - failed to fetch: f10.bin, f11.bin"))
        for blob in blobs.prefix(10) { #expect(Client.holds(dir.path, blob.name, blob.bytes)) }
        let some = try Client.run(["fetch", "f1.bin", "f2.bin", "--url", server.url], in: dir.path)
        #expect(some.status == 0)
    }

    @Test func noURLIsAClearError() throws {
        let blob = Blob("a.bin", size: 10)
        let dir = TemporaryDirectory(prefix: "fetch")
        let result = try fetch(blob, urls: [], dir: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains("no server URL given (--url or TOOLTOOL_URL)"))
        let server = try Client.blobServer([blob])
        let fromEnvironment = try Client.run(
            ["fetch"], in: dir.path, environment: ["TOOLTOOL_URL": "\(try Client.deadURL()) \(server.url)"])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
    }
}

/// Looks for leftovers on disk.
enum FileSystemProbe {
    /// Temp files (`.NAME.PID.RANDOM.tmp`) left in `directory`.
    static func strayTemporaries(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter {
            $0.hasPrefix(".") && $0.hasSuffix(".tmp")
        }
    }
}
