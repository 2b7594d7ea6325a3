import Foundation
import HTTPServer
import TestSupport
import Testing

extension HTTPServerSuite {
    /// Streamed response bodies (`HTTPBodySource`) and paused request bodies (`HTTPConsumeResult.pause`).
    @Suite struct Streaming {
        /// The bytes `PatternSource` sends for a body of `length`.
        static func pattern(_ length: Int) -> [UInt8] {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(length)
            while bytes.count < length { bytes += patternBlock.prefix(length - bytes.count) }
            return bytes
        }

        @Test func streamedBodyArrivesWholeAndTheConnectionIsReused() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            for length in [1, 70_000, 3 << 20] {
                let response = try client.request("GET", "/stream?\(length)")
                #expect(response.status == 200)
                #expect(response.header("Content-Length") == "\(length)")
                #expect(response.body == Self.pattern(length))
            }
            #expect(try client.request("GET", "/hello").text == "hello world")
        }

        @Test func aClientThatDoesNotReadHoldsTheSourceBack() throws {
            let events = Recorder<String>()
            let server = try TestServer(events: events)
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port, timeout: 10)
            let length = 64 << 20
            client.send("GET /stream?\(length) HTTP/1.1\r\nHost: a\r\n\r\n")
            usleep(500_000)  // the client reads nothing meanwhile
            let source = try #require(PatternSource.last.withLock { $0 })
            let written = source.written.load(ordering: .relaxed)
            // The sink's 1 MiB, plus what the loopback socket buffers take; far from the 64 MiB body.
            #expect(written > 0)
            #expect(written < 24 << 20, "the source wrote \(written) bytes to a client that read none")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.body.count == length)
            #expect(response.body == Self.pattern(length))
            #expect(events.wait { $0.contains("source done \(length)") })
        }

        @Test func aFailingSourceClosesTheConnectionBeforeTheWholeLength() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port, timeout: 5)
            client.send("GET /stream?200000&fail HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(throws: (any Error).self) { try client.readResponse() }  // 100,000 bytes, then the close
            #expect(client.isClosedByPeer())
        }

        @Test func headAndAGoneClientCancelTheSource() throws {
            let events = Recorder<String>()
            let server = try TestServer(events: events)
            defer { server.stop() }
            let head = try RawHTTPClient(port: server.port).request("HEAD", "/stream?1000")
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "1000")
            #expect(events.wait { $0 == ["source cancelled"] })
            do {
                let client = try RawHTTPClient(port: server.port)
                client.send("GET /stream?\(256 << 20) HTTP/1.1\r\nHost: a\r\n\r\n")
                usleep(200_000)
            }  // the client goes away without reading
            #expect(events.wait(timeout: 5) { $0.filter { $0 == "source cancelled" }.count == 2 })
        }

        @Test func aPausedBodyIsReadWholeAndThePipelinedRequestFollows() throws {
            let events = Recorder<String>()
            let server = try TestServer(events: events)
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port, timeout: 10)
            let blocks = 8
            var bytes = Array(
                "PUT /paused-upload HTTP/1.1\r\nHost: a\r\nContent-Length: \(blocks * patternBlock.count)\r\n\r\n".utf8)
            for _ in 0..<blocks { bytes += patternBlock }
            bytes += Array("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
            #expect(client.send(bytes))
            let upload = try client.readResponse()
            #expect(upload.status == 200)
            #expect(upload.text.hasPrefix("\(blocks * patternBlock.count) true "))
            #expect(try client.readResponse().text == "hello world")
            #expect(events.all == ["end \(blocks * patternBlock.count)"])
        }
    }
}
