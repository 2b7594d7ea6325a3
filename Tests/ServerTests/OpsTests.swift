import Foundation
import Shared
import TestSupport
import Testing

/// Heartbeats, version, metrics, the access log and a graceful stop.
@Suite struct OpsTests {
    @Test func heartbeatsAndVersionAnswer() throws {
        let harness = try ServerHarness()
        let heartbeat = try harness.request("GET", "/__heartbeat__")
        #expect(heartbeat.status == 200, "\(heartbeat.text)")
        #expect(heartbeat.header("Content-Type") == "application/json")
        #expect(try heartbeat.json()["status"]?.stringValue == "ok")

        let lb = try harness.request("GET", "/__lbheartbeat__")
        #expect(lb.status == 200)
        #expect(try lb.json()["status"]?.stringValue == "ok")
        #expect(try harness.request("HEAD", "/__lbheartbeat__").status == 200)

        let version = try harness.request("GET", "/__version__")
        #expect(version.status == 200)
        #expect(version.header("Content-Type") == "application/json")
        let text = try #require(try version.json()["version"]?.stringValue)
        #expect(
            text.split(separator: ".").count == 3 && text.split(separator: ".").allSatisfy { Int($0) != nil }, "\(text)"
        )
    }

    /// Tests run as root, which ignores permission bits, so the store is made unwritable by putting a plain file
    /// where the temp folder should be.
    @Test(.enabled(if: !TestStore.usesS3, "S3StoreTests stops the bucket's endpoint instead"))
    func heartbeatGives503WhenTheStoreIsNotWritableAndRecovers() throws {
        let harness = try ServerHarness()
        let temporary = harness.root + "/.tmp"
        try FileManager.default.removeItem(atPath: temporary)
        try Fixtures.write(Array("not a folder".utf8), to: temporary)

        let sick = try harness.request("GET", "/__heartbeat__")
        expectError(sick, 503, .unhealthy)
        #expect(!(sick.errorDescription ?? "").contains(harness.root), "no server paths in answers: \(sick.text)")
        #expect(try harness.request("GET", "/__lbheartbeat__").status == 200, "the load-balancer check stays up")

        try FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        #expect(try harness.request("GET", "/__heartbeat__").status == 200)
    }

    @Test func metricsCountRequestsBytesUploadsAndStoredFiles() throws {
        let harness = try ServerHarness(tokens: ["up": [.uploadPublic, .uploadInternal]])
        let before = try Self.metrics(harness)
        #expect(before.header("Content-Type")?.hasPrefix("text/plain") == true)
        #expect(before.text.contains("# TYPE tooltool_http_requests_total counter"))
        #expect(Self.value(before.text, "tooltool_files{visibility=\"public\"}") == 0)
        #expect(Self.value(before.text, "tooltool_uploads_total{outcome=\"verified\"}") == 0)

        let publicBytes = Fixtures.randomBytes(10_000)
        let internalBytes = Fixtures.randomBytes(7_000)
        #expect(try harness.put(publicBytes, visibility: "public", user: "up").status == 200)
        #expect(try harness.put(internalBytes, user: "up").status == 200)
        #expect(try harness.put(Fixtures.randomBytes(500), digest: Fixtures.digest([1]), user: "up").status == 400)
        #expect(try harness.request("GET", "/sha512/\(Fixtures.digest(publicBytes).hex)").status == 200)
        #expect(try harness.request("GET", "/sha512/\(Fixtures.digest([2]).hex)").status == 404)

        var text = ""
        let settled = try eventually {
            text = try Self.metrics(harness).text
            return Self.value(text, "tooltool_http_requests_total{method=\"GET\",status=\"404\"}") == 1
        }
        #expect(settled, "\(text)")
        #expect(Self.value(text, "tooltool_http_requests_total{method=\"PUT\",status=\"200\"}") == 2)
        #expect(Self.value(text, "tooltool_http_requests_total{method=\"PUT\",status=\"400\"}") == 1)
        #expect(
            Self.value(text, "tooltool_http_requests_total{method=\"GET\",status=\"200\"}").map { $0 >= 2 } == true,
            "the blob GET and the first /metrics")
        #expect(Self.value(text, "tooltool_uploads_total{outcome=\"verified\"}") == 2)
        #expect(Self.value(text, "tooltool_uploads_total{outcome=\"rejected\"}") == 1)
        #expect(Self.value(text, "tooltool_files{visibility=\"public\"}") == 1)
        #expect(Self.value(text, "tooltool_files{visibility=\"internal\"}") == 1)
        #expect(Self.value(text, "tooltool_file_bytes{visibility=\"public\"}") == 10_000)
        #expect(Self.value(text, "tooltool_file_bytes{visibility=\"internal\"}") == 7_000)
        #expect(Self.value(text, "tooltool_http_received_bytes_total").map { $0 >= 17_500 } == true)
        #expect(Self.value(text, "tooltool_http_sent_bytes_total").map { $0 >= 10_000 } == true)

        // A duplicate is not a second file.
        #expect(try harness.put(publicBytes, visibility: "public", user: "up").status == 200)
        let after = try Self.metrics(harness).text
        #expect(Self.value(after, "tooltool_files{visibility=\"public\"}") == 1)
        #expect(Self.value(after, "tooltool_file_bytes{visibility=\"public\"}") == 10_000)
    }

    @Test func metricsSumTheCountersOfEveryLoop() throws {
        // Four loops share the listener, so 60 connections land on several; each loop keeps its own counters.
        let harness = try ServerHarness(arguments: ["--threads", "4"])
        let heartbeats = "tooltool_http_requests_total{method=\"HEAD\",status=\"200\"}"
        let missing = "tooltool_http_requests_total{method=\"GET\",status=\"404\"}"
        #expect(Self.value(try Self.metrics(harness).text, heartbeats) == nil)
        for n in 0..<60 {
            #expect(try harness.request("HEAD", "/__lbheartbeat__").status == 200)
            if n % 3 == 0 {
                #expect(try harness.request("GET", "/sha512/\(Fixtures.digest([UInt8(n)]).hex)").status == 404)
            }
        }
        var text = ""
        let settled = try eventually {
            text = try Self.metrics(harness).text
            return Self.value(text, heartbeats) == 60 && Self.value(text, missing) == 20
        }
        #expect(settled, "\(text)")
        #expect(Self.value(text, heartbeats) == 60 && Self.value(text, missing) == 20, "no request counted twice")
    }

    @Test func accessLogHasOneLinePerRequestAndNeverTheToken() throws {
        let harness = try ServerHarness(tokens: ["alice": [.downloadInternal, .uploadInternal]])
        let token = try #require(harness.tokens["alice"])
        let bytes = Fixtures.randomBytes(1000)
        let digest = Fixtures.digest(bytes)
        #expect(try harness.put(bytes, user: "alice").status == 200)
        #expect(try harness.request("GET", "/sha512/\(digest.hex)", user: "alice").status == 200)
        #expect(try harness.request("GET", "/sha512/\(digest.hex)").status == 401)
        #expect(try harness.request("GET", "/__lbheartbeat__", rawToken: token + "x").status == 401)

        var lines: [Substring] = []
        #expect(
            eventually {
                lines = harness.server.stderr().split(separator: "\n").filter { $0.contains(" ACCESS ") }
                return lines.count >= 4
            }, "\(harness.server.stderr())")
        #expect(lines.count == 4, "\(lines)")
        let put = lines.first { $0.contains(" PUT ") }
        #expect(put?.contains(" alice PUT /sha512/\(digest.hex) 200 ") == true, "\(put ?? "")")
        #expect(lines.contains { $0.contains(" alice GET /sha512/\(digest.hex) 200 ") })
        #expect(lines.contains { $0.contains(" - GET /sha512/\(digest.hex) 401 ") })
        #expect(lines.contains { $0.contains(" GET /__lbheartbeat__ 401 ") })
        // Each line starts with the request's UTC time, `2026-11-25T17:30:20.123Z` (built by hand, not gmtime_r).
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for line in lines {
            let stamp = String(line.prefix { $0 != " " })
            let time = try #require(format.date(from: stamp), "\(line)")
            #expect(stamp.count == 24 && abs(time.timeIntervalSinceNow) < 120, "\(line)")
        }
        let log = harness.server.stderr()
        #expect(!log.contains(token), "the token must never be logged")
        #expect(!log.contains("Bearer"))
    }

    @Test func accessLogLeavesOutTheQueryString() throws {
        let harness = try ServerHarness(tokens: ["up": [.uploadInternal]])
        let bytes = Fixtures.randomBytes(100)
        let response = try harness.request(
            "PUT", "/sha512/\(Fixtures.digest(bytes).hex)?visibility=internal&expires=1&signature=SECRETSIG",
            body: bytes)
        #expect(response.status == 403)
        #expect(eventually { harness.server.stderr().contains(" ACCESS ") })
        #expect(!harness.server.stderr().contains("SECRETSIG"))
    }

    @Test func sigtermFinishesTheRequestInFlightAndExitsZero() throws {
        let harness = try ServerHarness(tokens: ["up": [.uploadInternal]])
        let bytes = Fixtures.randomBytes(TestStore.sizeSeenInProgress(atLeast: 2 << 20))
        let half = bytes.count / 2
        let digest = Fixtures.digest(bytes)
        let client = try RawHTTPClient(port: harness.port, timeout: 20)
        client.send(
            "PUT /sha512/\(digest.hex) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(harness.tokens["up"]!)\r\n"
                + "Content-Length: \(bytes.count)\r\n\r\n")
        client.send(Array(bytes[..<half]))
        #expect(eventually { !harness.uploadsInProgress().isEmpty }, "the upload is in flight")

        kill(harness.server.pid, SIGTERM)
        usleep(200_000)
        #expect(kill(harness.server.pid, 0) == 0, "the server waits for the request in flight")
        #expect(client.send(Array(bytes[half...])))
        let response = try client.readResponse()
        #expect(response.status == 200, "\(response.text)")
        #expect(response.header("Connection") == "close")
        #expect(harness.stored.bytes(digest, .internal) == bytes)

        #expect(harness.server.stop() == 0, "\(harness.server.stderr())")
        #expect(harness.server.stderr().contains("stopped"))
    }

    @Test func sigtermWithOnlyIdleConnectionsExitsAtOnce() throws {
        let harness = try ServerHarness(arguments: ["--threads", "1"])
        let idle = try RawHTTPClient(port: harness.port)
        #expect(try idle.request("GET", "/__lbheartbeat__").status == 200)
        let started = Date()
        #expect(harness.server.stop() == 0)
        #expect(Date().timeIntervalSince(started) < 3, "an idle keep-alive connection does not hold the stop")
        #expect(idle.isClosedByPeer())
    }

    /// Start-up removes every unlocked `.upload` file, however recent (a crashed writer's), and other leftovers (a
    /// `.new` file a crash caught before its lock) once they are ten minutes old.
    @Test func startUpRemovesStaleTempFilesOnly() throws {
        let store = TemporaryDirectory(prefix: "sweep")
        let stale = store.file(".tmp/0123456789abcdef-stale.upload")
        let fresh = store.file(".tmp/0123456789abcdef-fresh.upload")
        let oldNew = store.file(".tmp/0123456789abcdef-old.new")
        let freshNew = store.file(".tmp/0123456789abcdef-fresh.new")
        for path in [stale, fresh, oldNew, freshNew] { try Fixtures.write(Fixtures.randomBytes(100), to: path) }
        let twoHoursAgo = Date().addingTimeInterval(-7200)
        for path in [stale, oldNew] {
            try FileManager.default.setAttributes([.modificationDate: twoHoursAgo], ofItemAtPath: path)
        }

        let server = try ServerProcess(root: store.path)
        #expect(!ServerHarness.exists(stale), "an old unlocked upload's temp file is removed at start-up")
        #expect(!ServerHarness.exists(fresh), "so is a recent one: no live writer holds its lock")
        #expect(!ServerHarness.exists(oldNew), "an old unlocked .new file is removed")
        #expect(ServerHarness.exists(freshNew), "a recent .new file may be a writer's before its lock, and stays")
        #expect(server.stderr().contains("removed 3 stale temp file"))
    }

    /// The `/metrics` page.
    static func metrics(_ harness: ServerHarness) throws -> RawHTTPResponse {
        let response = try harness.request("GET", "/metrics")
        try #require(response.status == 200)
        return response
    }

    /// The value of the sample line starting with `series`, or nil when there is none.
    static func value(_ text: String, _ series: String) -> Int64? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Int64(line.dropFirst(series.count + 1))
        }
        return nil
    }
}
