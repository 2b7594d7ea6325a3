import Foundation
import HTTPServer
import Synchronization
import TestSupport
import Testing

extension HTTPServerSuite {
    /// What reaches an event loop from other threads after it ended (`LoopMailbox`).
    @Suite struct Mailbox {
        @Test func aFileResponseSentAfterTheServerStoppedIsClosedAtOnce() throws {
            let held = HeldResponders()
            let server = try TestServer(handler: HoldingHandler(held: held)) {
                $0.threads = 2
                $0.gracefulStopTimeout = 0.2
            }
            let client = try RawHTTPClient(port: server.port, timeout: 3)
            client.send("GET /held HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(eventually(timeout: 3) { held.responders.withLock { $0.count } == 1 })
            #expect(server.stop())  // the request still in flight is cut after gracefulStopTimeout
            #expect(client.isClosedByPeer())

            var ends: [Int32] = [-1, -1]
            try #require(pipe(&ends) == 0)
            defer { close(ends[1]) }
            let responder = try #require(held.responders.withLock { $0.first })
            responder.send(HTTPResponse(status: .ok, body: .file(fd: ends[0], offset: 0, length: 1)))
            // The layer owns the read end from `send` on; with the loop gone it must close it now, while the
            // responder is still held. Writing to a pipe without a reader fails with EPIPE (the server ignores
            // SIGPIPE).
            var byte: UInt8 = 1
            #expect(write(ends[1], &byte, 1) == -1 && errno == EPIPE)
        }
    }
}

/// The responders of the requests `HoldingHandler` answered later, kept unanswered by the test.
final class HeldResponders: Sendable {
    let responders = Mutex<[any HTTPResponder]>([])
}

/// Answers every request later, keeping its responder in `held` without using it.
struct HoldingHandler: HTTPHandler {
    let held: HeldResponders

    func handle(_ head: HTTPRequestHead) -> HTTPRequestAction {
        .respondLater { responder in held.responders.withLock { $0.append(responder) } }
    }
}
