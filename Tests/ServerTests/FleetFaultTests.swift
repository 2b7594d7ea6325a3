import Foundation
import Shared
import Synchronization
import TestSupport
import Testing

/// Three servers on one PostgreSQL index under a round-robin upload load (`FleetLoad`), while the database stops
/// and starts, or one server is killed with SIGKILL in mid-upload. What must hold: every refusal is a clear,
/// retryable one, the faults end by themselves, and nothing acknowledged is lost or half-written.
///
/// Both tests make their own PostgreSQL or database, so they run the same in the SQLite and the PostgreSQL CI runs.
@Suite struct FleetFaultTests {
    typealias Fleet = MultiInstanceTests.Fleet

    /// How long after PostgreSQL is back a 503 may still be answered (connections are remade on first use).
    static let recoveryWindow: TimeInterval = 5

    /// A flag the test sets and the load threads read.
    final class StopFlag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .sequentiallyConsistent) }
        var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
    }

    /// Runs `load` on a thread of its own until `stop` is set (or its own bounds); `wait()` on the group joins it.
    static func start(_ load: FleetLoad, threads: Int, stop: StopFlag) -> DispatchGroup {
        let group = DispatchGroup()
        group.enter()
        Thread {
            load.run(threads: threads, iterations: 2000, seconds: 60) { stop.isSet }
            group.leave()
        }.start()
        return group
    }

    /// Every file under `public/sha512` and `pvt/sha512` of `root` whose SHA-512 is not its name.
    static func misnamedBlobs(in root: String) -> [String] {
        var wrong: [String] = []
        for folder in ["public/sha512", "pvt/sha512"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(folder)")) ?? []
            for name in names {
                let bytes = Fixtures.read("\(root)/\(folder)/\(name)") ?? []
                if Fixtures.digest(bytes).hex != name { wrong.append("\(folder)/\(name) (\(bytes.count) bytes)") }
            }
        }
        return wrong
    }

    /// Every acknowledged batch is in the index with its files, and every acknowledged PUT is readable with its
    /// bytes and recorded as stored, from each of `ports`.
    static func expectNothingLost(
        _ load: FleetLoad, fleet: Fleet, ports: [Int], token: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let auth = [("Authorization", "Bearer \(token)")]
        for port in ports {
            for batch in load.batches {
                let answer = try RawHTTPClient(port: port).request("GET", "/upload/\(batch.id)", headers: auth)
                let result = try? JSONParser.parse(answer.body)["result"]
                #expect(
                    answer.status == 200 && result?["message"]?.stringValue == batch.message,
                    "batch \(batch.id) on \(port): \(answer.status) \(answer.text)", sourceLocation: sourceLocation)
                for file in batch.files {
                    #expect(
                        result?["files"]?[file.name]?["digest"]?.stringValue == file.digest.hex,
                        "batch \(batch.id) lists \(file.name) on \(port)", sourceLocation: sourceLocation)
                }
            }
            for put in load.puts {
                let blob = try RawHTTPClient(port: port).request("GET", "/sha512/\(put.file.digest.hex)")
                #expect(
                    blob.status == 200 && blob.body == put.file.bytes, "\(put.file.name) on \(port): \(blob.status)",
                    sourceLocation: sourceLocation)
                let file = try RawHTTPClient(port: port).request(
                    "GET", "/file/sha512/\(put.file.digest.hex)", headers: auth)
                #expect(
                    file.status == 200 && file.text.contains("\"has_instances\":true"),
                    "\(put.file.name) indexed on \(port): \(file.text)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func postgresStoppedAndStartedInTheMiddleOfALoadRunLosesNothingAcknowledged() throws {
        let cluster = try PostgresCluster()  // its own: this test stops it
        let fleet = try Fleet(uri: try cluster.makeDatabase())
        let token = try fleet.token("load", ["upload.public", "download.internal"])
        let load = FleetLoad(ports: fleet.servers.map(\.port), token: token)
        let stop = StopFlag()
        let running = Self.start(load, threads: 3, stop: stop)

        usleep(2_000_000)
        let pausing = Date()
        try cluster.pause()
        usleep(3_000_000)
        try cluster.resume()
        let resumed = Date()
        usleep(UInt32((Self.recoveryWindow + 3) * 1_000_000))
        stop.set()
        running.wait()

        let records = load.records
        let refused = records.filter { $0.status == 503 }
        let others = records.filter { !$0.succeeded && $0.status != 503 }
        let lastRefusal = refused.map(\.ended).max()
        print(
            """
            FleetFaultTests outage: \(records.count) requests, \(refused.count) answered 503 \
            (\(refused.filter { $0.step == .put }.count) PUTs, \(load.refusedPuts.count) kept to retry); \
            database down for \(String(format: "%.1f", resumed.timeIntervalSince(pausing))) s; last 503 ended \
            \(lastRefusal.map { String(format: "%.2f", $0.timeIntervalSince(resumed)) } ?? "-") s after the database \
            was back; the slowest 503 took \(String(format: "%.2f", refused.map { $0.ended.timeIntervalSince($0.started) }.max() ?? 0)) s; \
            \(load.batches.count) batches and \(load.puts.count) PUTs acknowledged
              \(records.tally)
            """)
        #expect(others.isEmpty, "every refusal is a 503: \(others.prefix(5).map(\.summary))")
        #expect(
            records.filter { $0.step == .post && $0.status == 200 }.count == load.batches.count,
            "every 200 to POST /upload carried its batch")
        #expect(!refused.isEmpty, "the load ran into the outage")
        for record in refused {
            #expect(
                record.errorName == .indexUnavailable && record.contentType == "application/json"
                    && record.retryAfter == "5", "the JSON error body and Retry-After: \(record.summary)")
            #expect(
                record.ended >= pausing && record.started <= resumed.addingTimeInterval(Self.recoveryWindow),
                "503 only while the database was away (or just back): \(record.summary) started \(record.started.timeIntervalSince(resumed)) s after it came back"
            )
        }
        let late = records.filter { $0.started > resumed.addingTimeInterval(Self.recoveryWindow) }
        #expect(late.count >= 10 && late.allSatisfy(\.succeeded), "\(late.count) requests after recovery, all answered")
        #expect(
            records.contains { $0.step == .post && $0.started > pausing && $0.ended < resumed && $0.status == 503 },
            "a batch was refused during the gap")
        for server in fleet.servers { #expect(server.isRunning, "server \(server.port) never died") }

        // A PUT refused with 503 left its blob stored but not recorded in the index; sent again, it is acknowledged.
        let auth = [("Authorization", "Bearer \(token)")]
        var storedBeforeRetry = 0
        for put in load.refusedPuts {
            if FileManager.default.fileExists(atPath: "\(fleet.root)/public/sha512/\(put.file.digest.hex)") {
                storedBeforeRetry += 1
            }
            let again = try RawHTTPClient(port: fleet.servers[0].port).request("PUT", put.target, body: put.file.bytes)
            #expect(again.status == 200, "a refused PUT succeeds when sent again: \(again.text)")
            let file = try RawHTTPClient(port: fleet.servers[1].port).request(
                "GET", "/file/sha512/\(put.file.digest.hex)",
                headers: auth)
            #expect(file.status == 200 && file.text.contains("\"has_instances\":true"), "\(file.text)")
        }
        print(
            "FleetFaultTests outage: \(storedBeforeRetry) of \(load.refusedPuts.count) PUTs answered 503 had their blob stored already"
        )
        try Self.expectNothingLost(load, fleet: fleet, ports: fleet.servers.map(\.port), token: token)
        #expect(Self.misnamedBlobs(in: fleet.root).isEmpty)
        for server in fleet.servers { #expect(!server.stderr().contains(token), "the token is never logged") }
    }

    @Test func killingOneServerMidUploadLeavesTheOthersServingAndNothingHalfWritten() throws {
        let lease = 3
        let fleet = try Fleet(arguments: ["--upload-lease", String(lease)])
        let token = try fleet.token("load", ["upload.public", "download.internal"])
        let (a, b, c) = (fleet.servers[0], fleet.servers[1], fleet.servers[2])
        // Files of 1.5 MB go in 64 KiB pieces 10 ms apart: a quarter of a second mid-body each.
        let load = FleetLoad(
            ports: fleet.servers.map(\.port), token: token, sizes: [700, 1_500_000, 20_000], pacing: true)
        let stop = StopFlag()
        let running = Self.start(load, threads: 3, stop: stop)
        usleep(1_500_000)

        // Two PUTs on A that send a tenth of their bodies and stall, so A holds uploads in flight for sure.
        let stalled = (0..<2).map { _ in Fixtures.randomBytes(200_000) }
        let stalledClients = try stalled.map { bytes in
            let client = try RawHTTPClient(port: a.port)
            client.send(
                Array(
                    "PUT /sha512/\(Fixtures.digest(bytes).hex)?visibility=public HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(bytes.count)\r\n\r\n"
                        .utf8)
                    + Array(bytes.prefix(20_000)))
            return client
        }
        let completes = stalled.map { "/upload/complete/sha512/\(Fixtures.digest($0).hex)" }
        for complete in completes {
            #expect(
                eventually(timeout: 5) { (try? fleet.send(b, "GET", complete, token: token).status) == 409 },
                "B sees A's upload in flight")
        }

        // Kill A while the load has a PUT on it too (1.5 MB files send for a quarter of a second).
        #expect(eventually(timeout: 10) { load.inFlight(port: a.port, step: .put) > 0 }, "a load PUT reached A")
        let killed = Date()
        a.kill9()
        // A's uploads stop blocking once their lease runs out, never renewed again.
        for complete in completes {
            #expect(eventually(timeout: 15) { (try? fleet.send(b, "GET", complete, token: token).status) == 202 })
            #expect(try fleet.send(c, "GET", complete, token: token).status == 202)
        }
        let unblocked = Date().timeIntervalSince(killed)
        #expect(Self.misnamedBlobs(in: fleet.root).isEmpty, "nothing half-written under a final name")
        for bytes in stalled {
            #expect(
                !FileManager.default.fileExists(atPath: "\(fleet.root)/public/sha512/\(Fixtures.digest(bytes).hex)"))
        }

        // A comes back on a new port and joins the load.
        let restarted = try ServerProcess(
            root: fleet.root, arguments: ["--index", fleet.uri, "--upload-lease", String(lease)],
            logName: "a-restarted.log")
        #expect(restarted.stderr().contains("stale temp file"), "A's partial uploads are swept when it starts again")
        load.replace(server: 0, port: restarted.port)
        let rejoined = Date()
        usleep(2_500_000)
        stop.set()
        running.wait()
        _ = stalledClients

        let records = load.records
        let onOldA = records.filter { $0.port == a.port }
        let cut = onOldA.filter { $0.status == nil }
        print(
            """
            FleetFaultTests kill: \(records.count) requests; \(cut.count) to the killed A failed at the connection \
            (\(cut.filter { $0.started < killed }.count) of them in flight at the kill, \
            \(cut.filter { $0.step == .put && $0.started < killed }.count) PUTs) and went \
            to B or C; A's in-flight uploads unblocked \(String(format: "%.1f", unblocked)) s after the kill \
            (lease \(lease) s); \(load.batches.count) batches and \(load.puts.count) PUTs acknowledged
              \(records.tally)
            """)
        let onBC = records.filter { $0.port == b.port || $0.port == c.port }
        #expect(
            onBC.count > 20 && onBC.allSatisfy(\.succeeded),
            "B and C answer every request: \(onBC.filter { !$0.succeeded }.prefix(5).map(\.summary))")
        #expect(!cut.isEmpty, "requests reached A after the kill")
        #expect(cut.allSatisfy { $0.ended >= killed }, "A refused nothing before its kill")
        let answeredByOldA = onOldA.filter { $0.status != nil }
        #expect(answeredByOldA.allSatisfy { $0.succeeded }, "A answered every request it took before the kill")
        let onNewA = records.filter { $0.port == restarted.port && $0.started >= rejoined }
        #expect(
            onNewA.count > 5 && onNewA.allSatisfy(\.succeeded),
            "the restarted A serves: \(onNewA.filter { !$0.succeeded }.prefix(5).map(\.summary))")
        #expect(b.isRunning && c.isRunning && restarted.isRunning)

        try Self.expectNothingLost(load, fleet: fleet, ports: [restarted.port, b.port, c.port], token: token)
        #expect(Self.misnamedBlobs(in: fleet.root).isEmpty, "nothing half-written under a final name")
    }
}
