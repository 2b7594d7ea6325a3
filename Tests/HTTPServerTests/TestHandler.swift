import Foundation
import HTTPServer
import Shared
import Synchronization

/// A 1 MiB random block; streamed bodies repeat it so the consumer can check every byte with `memcmp`.
let patternBlock: [UInt8] = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255) }

/// Holds `/decided?gate` requests until a test signals it.
let decisionGate = DispatchSemaphore(value: 0)

/// The routes the tests drive.
struct TestHandler: HTTPHandler {
    let events: Recorder<String>

    func handle(_ head: HTTPRequestHead) -> HTTPRequestAction {
        switch (head.method, head.path) {
        case (.get, "/hello"):
            return .respond(.text(status: .ok, "hello world"))
        case (.get, "/query"):
            return .respond(.text(status: .ok, head.query ?? "-"))
        case (.get, "/file"), (.head, "/file"):
            guard let path = head.headers["X-File"] else { return .respond(.text(status: .badRequest, "X-File")) }
            let fd = open(path, O_RDONLY)
            var info = stat()
            fstat(fd, &info)
            let offset = Int64(head.query ?? "0") ?? 0
            return .respond(
                HTTPResponse(
                    status: .ok, headers: ["Content-Type": "application/octet-stream"],
                    body: .file(fd: fd, offset: offset, length: Int64(info.st_size) - offset)))
        case (.get, "/block"):
            // Fields in wire form after ordinary ones; a value from the query, which may hold CR or LF.
            var block = HTTPHeaderBlock(maxBytes: 512) { fields in
                fields.add("X-Literal", literal: "fixed")
                fields.add("X-Tag", "abc", quoted: true)
                fields.add("X-Query", (head.query ?? "").removingPercentEncoding ?? "")
            }
            block.add("X-Added", "later")
            return .respond(
                HTTPResponse(
                    status: .ok, headers: ["X-Plain": "plain"], headerBlock: block,
                    body: .bytes(Array("block".utf8))))
        case (.put, "/upload"):
            return .readBody(PatternConsumer(events: events))
        case (.put, "/paused-upload"):
            return .readBody(PatternConsumer(events: events, pausing: true))
        case (.get, "/stream"), (.head, "/stream"):
            // `?N` bytes of the pattern from another thread; `?N&fail` fails after half of them.
            let parts = (head.query ?? "").split(separator: "&")
            let length = Int64(parts.first ?? "") ?? 0
            let source = PatternSource(length: length, failHalfway: parts.contains("fail"), events: events)
            return .respond(HTTPResponse(status: .ok, body: .stream(source, length: length)))
        case (.put, "/reject"):
            events.append("reject")
            return .respond(.error(status: .unauthorized, name: .unauthorized, description: "no credentials"))
        case (.get, "/later"):
            let delay = UInt32(head.query ?? "50") ?? 50
            return .respondLater { responder in
                Thread.detachNewThread {
                    usleep(delay * 1000)
                    responder.send(.text(status: .ok, "later"))
                }
            }
        case (_, "/decided"):
            // Decides on another thread: `?refuse` answers 401, `?drop` never decides, `?gate` waits for
            // `decisionGate`; otherwise a GET gets "decided" and a PUT streams into the pattern consumer.
            let query = head.query ?? "", method = head.method, events = self.events
            return .decideLater { decider in
                Thread.detachNewThread {
                    if query == "gate" { decisionGate.wait() } else { usleep(50_000) }
                    if query == "drop" { return }
                    events.append("decided \(method) \(query)")
                    decider.decide {
                        if query == "refuse" {
                            return .respond(.error(status: .unauthorized, name: .unauthorized, description: "refused"))
                        }
                        if method == .put { return .readBody(PatternConsumer(events: events)) }
                        return .respond(.text(status: .ok, "decided"))
                    }
                }
            }
        case (.post, "/echo"):
            return BufferedBodyConsumer.action(for: head, limit: 1024) { _, bytes, responder in
                responder.send(HTTPResponse(status: .ok, body: .bytes(bytes)))
            }
        default:
            return .respond(.error(status: .notFound, name: .notFound, description: "no route"))
        }
    }
}

/// Checks a body made of `patternBlock` repeats, byte for byte, and answers with the count.
final class PatternConsumer: HTTPBodyConsumer {
    private let events: Recorder<String>
    private var position = 0
    private var matches = true
    private var largestChunk = 0
    private let pausing: Bool

    init(events: Recorder<String>, pausing: Bool = false) {
        self.events = events
        self.pausing = pausing
    }

    func consume(_ chunk: UnsafeRawBufferPointer, flow: HTTPBodyFlow) -> HTTPConsumeResult {
        if pausing {
            // Every chunk pauses the body; another thread resumes it a little later, as a slow disk would.
            let resume = flow
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(2)) { resume.resume() }
        }
        largestChunk = max(largestChunk, chunk.count)
        var done = 0
        patternBlock.withUnsafeBytes { pattern in
            while done < chunk.count {
                let at = (position + done) % pattern.count
                let n = min(chunk.count - done, pattern.count - at)
                if memcmp(chunk.baseAddress! + done, pattern.baseAddress! + at, n) != 0 { matches = false }
                done += n
            }
        }
        position += chunk.count
        return pausing ? .pause : .proceed
    }

    func end(responder: HTTPResponder) {
        events.append("end \(position)")
        responder.send(.text(status: .ok, "\(position) \(matches) \(largestChunk)"))
    }

    func abort() { events.append("abort \(position)") }
}

/// Writes `length` bytes of `patternBlock` repeats into its sink from its own thread, waiting whenever the sink
/// says so; records how far it got (`written`) and how it ended.
final class PatternSource: HTTPBodySource {
    let length: Int64
    let failHalfway: Bool
    let events: Recorder<String>
    let written = Atomic<Int64>(0)
    private let wake = DispatchSemaphore(value: 0)
    private let cancelled = Atomic<Bool>(false)

    init(length: Int64, failHalfway: Bool, events: Recorder<String>) {
        self.length = length
        self.failHalfway = failHalfway
        self.events = events
        PatternSource.last.withLock { $0 = self }
    }

    /// The most recent source made, for tests that look at its progress.
    static let last = Mutex<PatternSource?>(nil)

    func start(_ sink: HTTPBodySink) {
        Thread.detachNewThread { [self] in
            var sent: Int64 = 0
            let stopAt = failHalfway ? length / 2 : length
            while sent < stopAt, !cancelled.load(ordering: .relaxed) {
                let at = Int(sent % Int64(patternBlock.count))
                let count = Int(min(Int64(min(64 << 10, patternBlock.count - at)), stopAt - sent))
                let room = patternBlock.withUnsafeBytes {
                    sink.write(UnsafeRawBufferPointer(rebasing: $0[at..<(at + count)]))
                }
                sent += Int64(count)
                written.store(sent, ordering: .relaxed)
                if !room { wake.wait() }
            }
            if cancelled.load(ordering: .relaxed) { return }
            if failHalfway { sink.fail() } else { sink.finish() }
            events.append("source done \(sent)")
        }
    }

    func resume() { wake.signal() }

    func cancel() {
        guard !cancelled.exchange(true, ordering: .relaxed) else { return }
        events.append("source cancelled")
        wake.signal()
    }
}
