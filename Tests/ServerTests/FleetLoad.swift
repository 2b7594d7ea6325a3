import Foundation
import Shared
import Synchronization
import TestSupport
import Testing

/// A bounded upload load spread round-robin over several servers, recording every answer: a few client threads,
/// each repeating tooltool's flow (POST /upload of one or two small files, PUT each to its `put_url`,
/// `GET /upload/complete`, `GET /file/sha512/D`, `GET /sha512/D`), every request on the next server in turn.
///
/// A request that fails at the connection level (refused, reset: its server died) is recorded and sent again to the
/// next server, as a load balancer would. What was acknowledged (a 200 to POST /upload or to a PUT) is kept for the
/// checks afterwards; a PUT answered 503 is kept apart, to be retried once the fault is over.
final class FleetLoad: Sendable {
    /// The request kinds of the flow.
    enum Step: String, Sendable, CaseIterable {
        case post = "POST /upload", put = "PUT blob", complete = "GET /upload/complete", file = "GET /file", blob =
            "GET blob"
    }

    /// One request and what came back.
    struct Record: Sendable {
        let step: Step
        /// Which server (an index into the ports) it went to, and its port then.
        let server: Int
        let port: Int
        let started: Date
        let ended: Date
        /// The status, nil when the connection failed.
        let status: Int?
        /// The error body's name, `Retry-After`, and the connection failure, when there were any.
        let errorName: APIErrorName?
        let retryAfter: String?
        let contentType: String?
        let failure: String?
    }

    /// A file of a batch: its name, bytes and digest.
    struct File: Sendable {
        let name: String
        let bytes: [UInt8]
        let digest: Digest
    }

    /// A batch the servers acknowledged.
    struct Batch: Sendable {
        let id: Int64
        let message: String
        let files: [File]
    }

    /// A PUT and its signed target, kept to check or retry.
    struct Put: Sendable {
        let file: File
        let target: String
    }

    private struct State {
        var ports: [Int]
        var records: [Record] = []
        var batches: [Batch] = []
        var puts: [Put] = []
        var refusedPuts: [Put] = []
        /// Requests being sent or waiting for their answer, by port and step.
        var inFlight: [Int: [Step: Int]] = [:]
    }

    private let state: Mutex<State>
    private let token: String
    private let sizes: [Int]
    private let pacing: Bool

    /// A load on `ports` with `token` (needs upload.public and download.internal); files get sizes picked from
    /// `sizes`. With `pacing`, bodies over 256 KiB are sent in 64 KiB pieces 10 ms apart, so they stay mid-body a
    /// while (a kill then lands inside one).
    init(ports: [Int], token: String, sizes: [Int] = [300, 2000, 9000], pacing: Bool = false) {
        state = Mutex(State(ports: ports))
        self.token = token
        self.sizes = sizes
        self.pacing = pacing
    }

    /// Sends later requests for server `number` to `port` (a restarted server).
    func replace(server number: Int, port: Int) { state.withLock { $0.ports[number] = port } }

    /// How many `step` requests to `port` are under way right now.
    func inFlight(port: Int, step: Step) -> Int { state.withLock { $0.inFlight[port]?[step] ?? 0 } }

    /// Every request so far.
    var records: [Record] { state.withLock { $0.records } }
    /// Batches answered 200.
    var batches: [Batch] { state.withLock { $0.batches } }
    /// PUTs answered 200.
    var puts: [Put] { state.withLock { $0.puts } }
    /// PUTs answered 503.
    var refusedPuts: [Put] { state.withLock { $0.refusedPuts } }

    /// Runs `threads` clients until `stop()` says so, or `iterations` flows each, or `seconds`, whichever is first;
    /// returns when they all have.
    func run(threads: Int, iterations: Int, seconds: TimeInterval, stop: @escaping @Sendable () -> Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        let group = DispatchGroup()
        for number in 0..<threads {
            group.enter()
            let thread = Thread { [self] in
                var turn = number
                for iteration in 0..<iterations where !stop() && Date() < deadline {
                    flow(thread: number, iteration: iteration, turn: &turn)
                    usleep(50_000)  // a breath between flows: the machine is shared with the rest of the suite
                }
                group.leave()
            }
            thread.start()
        }
        group.wait()
    }

    /// One tooltool flow; `turn` picks the next server.
    private func flow(thread: Int, iteration: Int, turn: inout Int) {
        let count = 1 + (thread + iteration) % 2
        let files = (0..<count).map { index -> File in
            let bytes = Fixtures.randomBytes(sizes[(thread * 7 + iteration * 3 + index) % sizes.count])
            return File(name: "t\(thread)-i\(iteration)-f\(index).bin", bytes: bytes, digest: Fixtures.digest(bytes))
        }
        let message = "load t\(thread) i\(iteration)"
        let body: JSONValue = [
            "message": .string(message),
            "files": .object(
                files.map { file in
                    (
                        file.name,
                        [
                            "size": .int(Int64(file.bytes.count)), "digest": .string(file.digest.hex),
                            "algorithm": "sha512",
                            "visibility": "public"
                        ]
                    )
                })
        ]
        guard let posted = send(.post, "POST", "/upload", body: Array(JSONWriter.write(body).utf8), turn: &turn),
            posted.status == 200, let result = try? JSONParser.parse(posted.body)["result"],
            let id = result["id"]?.intValue
        else {
            usleep(50_000)  // a refused batch: a short pause, as a client honouring Retry-After would (shortened)
            return
        }
        state.withLock { $0.batches.append(Batch(id: id, message: message, files: files)) }
        for file in files {
            if let url = result["files"]?[file.name]?["put_url"]?.stringValue,
                let target = try? APIHarness.target(of: url)
            {
                let put = Put(file: file, target: target)
                let answer = send(.put, "PUT", target, body: file.bytes, turn: &turn)
                state.withLock { state in
                    if answer?.status == 200 { state.puts.append(put) }
                    if answer?.status == 503 { state.refusedPuts.append(put) }
                }
            }
            _ = send(.complete, "GET", "/upload/complete/sha512/\(file.digest.hex)", turn: &turn)
            _ = send(.file, "GET", "/file/sha512/\(file.digest.hex)", turn: &turn)
            _ = send(.blob, "GET", "/sha512/\(file.digest.hex)", turn: &turn)
        }
    }

    /// Sends one request to the next server; on a connection failure records it and tries the following ones
    /// (each server once at most). nil when none answered.
    private func send(
        _ step: Step, _ method: String, _ target: String, body: [UInt8] = [],
        turn: inout Int
    ) -> RawHTTPResponse? {
        let ports = state.withLock { $0.ports }
        for _ in 0..<ports.count {
            let server = turn % ports.count
            turn += 1
            let started = Date()
            state.withLock { $0.inFlight[ports[server], default: [:]][step, default: 0] += 1 }
            defer { state.withLock { $0.inFlight[ports[server], default: [:]][step, default: 0] -= 1 } }
            do {
                let response = try exchange(port: ports[server], method, target, body: body)
                let record = Record(
                    step: step, server: server, port: ports[server], started: started, ended: Date(),
                    status: response.status,
                    errorName: response.errorName, retryAfter: response.header("Retry-After"),
                    contentType: response.header("Content-Type"), failure: nil)
                state.withLock { $0.records.append(record) }
                return response
            } catch {
                let record = Record(
                    step: step, server: server, port: ports[server], started: started, ended: Date(), status: nil,
                    errorName: nil, retryAfter: nil, contentType: nil, failure: "\(error)")
                state.withLock { $0.records.append(record) }
            }
        }
        return nil
    }

    private func exchange(port: Int, _ method: String, _ target: String, body: [UInt8]) throws -> RawHTTPResponse {
        let client = try RawHTTPClient(port: port)
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(token)\r\n"
        if method != "GET" {
            head += "Content-Type: \(method == "PUT" ? "application/octet-stream" : "application/json")\r\n"
        }
        if method != "GET" { head += "Content-Length: \(body.count)\r\n" }
        guard client.send(Array((head + "\r\n").utf8)) else { throw CutOff(at: 0) }
        let piece = pacing && body.count > 256 * 1024 ? 64 * 1024 : max(body.count, 1)
        var offset = 0
        while offset < body.count {
            let end = min(offset + piece, body.count)
            guard client.send(Array(body[offset..<end])) else {
                throw CutOff(at: offset)
            }
            offset = end
            if piece < body.count { usleep(10_000) }
        }
        return try client.readResponse()
    }
}

/// The server closed the connection while the request was being sent (`at` bytes into its body).
struct CutOff: Error, CustomStringConvertible {
    let at: Int
    var description: String {
        at == 0 ? "connection closed while sending the head" : "connection closed while sending the body at \(at)"
    }
}

extension FleetLoad.Record {
    /// True for a 2xx answer.
    var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }
    /// `STEP -> server N: STATUS NAME` for messages.
    var summary: String {
        "\(step.rawValue) -> server \(server): \(status.map(String.init) ?? "no answer (\(failure ?? ""))") \(errorName?.rawValue ?? "")"
    }
}

extension Array where Element == FleetLoad.Record {
    /// Counts by step and outcome, one line each, for the test's log.
    var tally: String {
        var counts: [String: Int] = [:]
        for record in self {
            counts["\(record.step.rawValue) \(record.status.map(String.init) ?? "no answer")", default: 0] += 1
        }
        return counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
    }
}
