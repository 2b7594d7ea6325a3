import Foundation
import HTTPServer
import Synchronization
import TestSupport
import Testing

extension HTTPServerSuite {
    /// Timeouts, the connection cap, several loops, and graceful stop.
    @Suite struct Lifecycle {
        @Test func tricklingHeadIsCutAtTheDeadlineWhileOthersAreServed() throws {
            let server = try TestServer { $0.headerTimeout = 0.8 }
            defer { server.stop() }
            let slow = try RawHTTPClient(port: server.port, timeout: 3)
            let started = Date()
            slow.send("GET /hello HTTP/1.1\r\nHost: a\r\n")
            let other = try RawHTTPClient(port: server.port)
            #expect(try other.request("GET", "/hello").status == 200)
            for byte in "X-Y:z" {  // one byte every 150 ms; progress must not extend the deadline
                usleep(150_000)
                slow.send(String(byte))
            }
            let response = try slow.readResponse()
            #expect(response.status == 408)
            #expect(Date().timeIntervalSince(started) < 1.4)
            #expect(slow.isClosedByPeer())
        }

        @Test func idleKeepAliveConnectionIsClosed() throws {
            let server = try TestServer { $0.idleTimeout = 0.3 }
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port, timeout: 2)
            #expect(try client.request("GET", "/hello").status == 200)
            let started = Date()
            #expect(client.isClosedByPeer())
            #expect(Date().timeIntervalSince(started) < 1.5)
        }

        @Test func connectionCapEvictsIdleOrAnswers503() throws {
            let server = try TestServer { $0.maxConnections = 2 }
            defer { server.stop() }
            let first = try RawHTTPClient(port: server.port, timeout: 3)
            let second = try RawHTTPClient(port: server.port, timeout: 3)
            first.send("GET /hello HTTP/1.1\r\n")  // both busy: mid-head
            second.send("GET /hello HTTP/1.1\r\n")
            usleep(50_000)
            let refused = try RawHTTPClient(port: server.port, timeout: 3)
            let busy = try refused.readResponse()
            #expect(busy.status == 503)
            #expect(busy.header("Content-Type") == "application/json")
            #expect(busy.text.contains("\"ServiceUnavailable\""))
            #expect(refused.isClosedByPeer())

            first.send("Host: a\r\n\r\n")
            #expect(try first.readResponse().status == 200)
            usleep(20_000)
            second.send("Host: a\r\n\r\n")
            #expect(try second.readResponse().status == 200)
            // Both idle now: a newcomer evicts the one idle longest (the first).
            let newcomer = try RawHTTPClient(port: server.port, timeout: 3)
            #expect(try newcomer.request("GET", "/hello").status == 200)
            #expect(first.isClosedByPeer())
            #expect(try second.request("GET", "/hello").status == 200)
        }

        @Test func severalLoopsShareOneSocket() throws {
            let server = try TestServer { $0.threads = 3 }
            defer { server.stop() }
            let clients = try (0..<8).map { _ in try RawHTTPClient(port: server.port) }
            for round in 0..<3 {
                for (index, client) in clients.enumerated() {
                    #expect(try client.request("GET", "/query?\(round)-\(index)").text == "\(round)-\(index)")
                }
            }
        }

        @Test func gracefulStopFinishesRequestsInFlight() throws {
            let server = try TestServer()
            let idle = try RawHTTPClient(port: server.port, timeout: 3)
            #expect(try idle.request("GET", "/hello").status == 200)
            let busy = try RawHTTPClient(port: server.port, timeout: 3)
            busy.send("GET /later?300 HTTP/1.1\r\nHost: a\r\n\r\n")
            usleep(50_000)
            server.server.stop()
            #expect(idle.isClosedByPeer())
            // While the in-flight request drains, new clients are refused at once instead of queueing unanswered.
            #expect(throws: RawHTTPError.self) { try RawHTTPClient(port: server.port) }
            let response = try busy.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "later")
            #expect(response.header("Connection") == "close")
            #expect(server.waitForRunToReturn(timeout: 3))
            #expect(throws: RawHTTPError.self) { try RawHTTPClient(port: server.port) }
        }

        @Test func stopAskedInTheSameIterationAsAResponseClosesRightAfterIt() throws {
            // The response is queued for the end of the iteration when the stop arrives (the handler asks for it),
            // so the stop finds the connection busy; it must close once the response is out, not wait out
            // gracefulStopTimeout (10 s).
            let box = ServerBox()
            let server = try TestServer(handler: StopOnRequestHandler(box: box)) { $0.threads = 1 }
            box.server.withLock { $0 = server.server }
            let client = try RawHTTPClient(port: server.port, timeout: 15)
            #expect(try client.request("GET", "/stop").text == "stopping")
            #expect(server.waitForRunToReturn(timeout: 3))
            #expect(client.isClosedByPeer())
        }

        @Test func aBurstOfPipelinedRequestsIsAnsweredInOrder() throws {
            // Thousands of requests in one go: most wait in the stash while the one before is answered.
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port, timeout: 20)
            let count = 3000
            #expect(client.send((0..<count).map { "GET /query?\($0) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined()))
            var answered = 0
            for index in 0..<count where try client.readResponse().text == "\(index)" { answered += 1 }
            #expect(answered == count)
            #expect(try client.request("GET", "/hello").text == "hello world")
        }

        @Test func gracefulStopIsBounded() throws {
            let server = try TestServer { $0.gracefulStopTimeout = 0.3 }
            let busy = try RawHTTPClient(port: server.port, timeout: 3)
            busy.send("GET /later?3000 HTTP/1.1\r\nHost: a\r\n\r\n")
            usleep(50_000)
            let started = Date()
            #expect(server.stop(timeout: 2))
            #expect(Date().timeIntervalSince(started) < 1.5)
            #expect(busy.isClosedByPeer())
        }
    }
}

/// Lets a handler reach the server it runs in.
final class ServerBox: Sendable {
    let server = Mutex<HTTPServer?>(nil)
}

/// Answers `/stop` after asking its server to stop (so the stop arrives while the response is queued).
struct StopOnRequestHandler: HTTPHandler {
    let box: ServerBox

    func handle(_ head: HTTPRequestHead) -> HTTPRequestAction {
        if head.path == "/stop" { box.server.withLock { $0 }?.stop() }
        return .respond(.text(status: .ok, "stopping"))
    }
}
