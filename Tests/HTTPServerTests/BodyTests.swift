import Foundation
import HTTPServer
import TestSupport
import Testing

extension HTTPServerSuite {
    /// Streaming request bodies: 100-continue, refusals before the body, stalls, short bodies, a large body.
    @Suite struct Bodies {
        @Test func continueIsSentOnlyWhenTheBodyIsWanted() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            client.send("PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
            let interim = try client.readResponse()
            #expect(interim.statusLine == "HTTP/1.1 100 Continue")
            client.send(Array(patternBlock[0..<10]))
            let final = try client.readResponse()
            #expect(final.status == 200)
            #expect(final.text == "10 true 10")
        }

        @Test func refusalBeforeTheBodyAnswersAndClosesWithoutReadingIt() throws {
            let events = Recorder<String>()
            let server = try TestServer(events: events)
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port, timeout: 3)
            client.send("PUT /reject HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 401)  // and no 100 Continue before it
            #expect(response.header("Connection") == "close")
            #expect(response.header("Content-Type") == "application/json")
            #expect(client.isClosedByPeer())
            #expect(events.all == ["reject"])
        }

        @Test func refusalIsReadableEvenWhenTheClientSentTheBodyAnyway() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port, timeout: 3)
            let body = [UInt8](repeating: 1, count: 512 * 1024)
            client.send(Array("PUT /reject HTTP/1.1\r\nHost: a\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
            #expect(try client.readResponse().status == 401)
            #expect(client.isClosedByPeer())
        }

        @Test func stalledBodyIsAbortedAndClosed() throws {
            let events = Recorder<String>()
            let server = try TestServer(events: events) { $0.bodyStallTimeout = 0.3 }
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port, timeout: 3)
            client.send(
                Array("PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n".utf8) + patternBlock[0..<10])
            let started = Date()
            #expect(client.isClosedByPeer())
            #expect(Date().timeIntervalSince(started) < 2)
            #expect(events.wait { $0 == ["abort 10"] })
        }

        @Test func shortBodyIsAborted() throws {
            let events = Recorder<String>()
            let server = try TestServer(events: events)
            defer { server.stop() }
            do {
                let client = try RawHTTPClient(port: server.port)
                client.send(
                    Array("PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n".utf8) + patternBlock[0..<42])
                usleep(50_000)
            }  // the client closes here
            #expect(events.wait { $0 == ["abort 42"] })
        }

        @Test func largeBodyStreamsThroughWithoutGrowingMemory() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let blocks = 64
            let before = peakResidentBytes()
            #expect(
                client.send("PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: \(blocks * patternBlock.count)\r\n\r\n")
            )
            for _ in 0..<blocks { #expect(client.send(patternBlock)) }
            let response = try client.readResponse()
            let growth = peakResidentBytes() - before
            #expect(response.status == 200)
            let fields = response.text.split(separator: " ")
            #expect(fields.count == 3)
            #expect(fields.first == "\(blocks * patternBlock.count)")
            #expect(fields.dropFirst().first == "true")  // every byte matched
            #expect((Int(fields.last ?? "") ?? .max) <= 256 * 1024)  // chunks come from the 256 KiB loop buffer
            #expect(growth < 24 * 1024 * 1024, "peak RSS grew by \(growth) bytes")
        }
    }
}

/// `VmHWM` of this process (the test runs the server in-process).
func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
    else { return 0 }
    return (Int(line.split(separator: " ")[1]) ?? 0) * 1024
}
