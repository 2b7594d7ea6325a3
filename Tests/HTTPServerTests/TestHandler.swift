import Foundation
import HTTPServer

/// A 1 MiB random block; streamed bodies repeat it so the consumer can check every byte with `memcmp`.
let patternBlock: [UInt8] = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255) }

/// The routes the tests drive.
struct TestHandler: HTTPHandler {
    let events: Recorder<String>

    func handle(_ head: HTTPRequestHead) -> HTTPRequestAction {
        switch (head.method, head.path) {
        case ("GET", "/hello"):
            return .respond(.text(status: 200, "hello world"))
        case ("GET", "/query"):
            return .respond(.text(status: 200, head.query ?? "-"))
        case ("GET", "/file"), ("HEAD", "/file"):
            guard let path = head.headers["X-File"] else { return .respond(.text(status: 400, "X-File")) }
            let fd = open(path, O_RDONLY)
            var info = stat()
            fstat(fd, &info)
            let offset = Int64(head.query ?? "0") ?? 0
            return .respond(HTTPResponse(status: 200, headers: ["Content-Type": "application/octet-stream"],
                                         body: .file(fd: fd, offset: offset, length: Int64(info.st_size) - offset)))
        case ("GET", "/block"):
            // Fields in wire form after ordinary ones; a value from the query, which may hold CR or LF.
            var block = HTTPHeaderBlock(maxBytes: 512) { fields in
                fields.add("X-Literal", literal: "fixed")
                fields.add("X-Tag", "abc", quoted: true)
                fields.add("X-Query", (head.query ?? "").removingPercentEncoding ?? "")
            }
            block.add("X-Added", "later")
            return .respond(HTTPResponse(status: 200, headers: ["X-Plain": "plain"], headerBlock: block,
                                         body: .bytes(Array("block".utf8))))
        case ("PUT", "/upload"):
            return .readBody(PatternConsumer(events: events))
        case ("PUT", "/reject"):
            events.append("reject")
            return .respond(.error(status: 401, name: "Unauthorized", description: "no credentials"))
        case ("GET", "/later"):
            let delay = UInt32(head.query ?? "50") ?? 50
            return .respondLater { responder in
                Thread.detachNewThread {
                    usleep(delay * 1000)
                    responder.send(.text(status: 200, "later"))
                }
            }
        case ("POST", "/echo"):
            return BufferedBodyConsumer.action(for: head, limit: 1024) { _, bytes, responder in
                responder.send(HTTPResponse(status: 200, body: .bytes(bytes)))
            }
        default:
            return .respond(.error(status: 404, name: "NotFound", description: "no route"))
        }
    }
}

/// Checks a body made of `patternBlock` repeats, byte for byte, and answers with the count.
final class PatternConsumer: HTTPBodyConsumer {
    private let events: Recorder<String>
    private var position = 0
    private var matches = true
    private var largestChunk = 0

    init(events: Recorder<String>) { self.events = events }

    func consume(_ chunk: UnsafeRawBufferPointer) -> HTTPResponse? {
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
        return nil
    }

    func end(responder: HTTPResponder) {
        events.append("end \(position)")
        responder.send(.text(status: 200, "\(position) \(matches) \(largestChunk)"))
    }

    func abort() { events.append("abort \(position)") }
}
