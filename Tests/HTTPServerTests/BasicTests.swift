import Foundation
import HTTPServer
import TestSupport
import Testing

extension HTTPServerSuite {
    /// GET/HEAD, file bodies, keep-alive, pipelining, responders, the access log.
    @Suite struct Basics {
        @Test func getAnswersBytesWithLengthAndNoServerHeader() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let response = try client.request("GET", "/hello")
            #expect(response.statusLine == "HTTP/1.1 200 OK")
            #expect(response.text == "hello world")
            #expect(response.header("Content-Length") == "11")
            #expect(response.header("Server") == nil)
            #expect(response.header("Connection") == nil)
        }

        @Test func fileBodyIsSentAndHeadHasLengthButNoBody() throws {
            let directory = TemporaryDirectory()
            let bytes = Fixtures.randomBytes(3 * 1024 * 1024 + 17)
            let path = directory.file("blob")
            try Fixtures.write(bytes, to: path)
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let get = try client.request("GET", "/file", headers: [("X-File", path)])
            #expect(get.status == 200)
            #expect(get.header("Content-Length") == String(bytes.count))
            #expect(get.body == bytes)
            let head = try client.request("HEAD", "/file", headers: [("X-File", path)])
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == String(bytes.count))
            // Had HEAD sent a body, this response would be parsed from the middle of it.
            let offset = try client.request("GET", "/file?100", headers: [("X-File", path)])
            #expect(offset.status == 200)
            #expect(offset.body == Array(bytes[100...]))
        }

        @Test func fileBodyLargerThanTheSocketBufferIsSentWhole() throws {
            // sendfile fills the socket buffer and would block many times over; libevent reports that as 0 bytes.
            let directory = TemporaryDirectory()
            let bytes = Fixtures.randomBytes(48 * 1024 * 1024 + 5)
            let path = directory.file("blob")
            try Fixtures.write(bytes, to: path)
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let get = try client.request("GET", "/file", headers: [("X-File", path)])
            #expect(get.status == 200)
            #expect(get.body.count == bytes.count)
            #expect(get.body == bytes)
            let again = try client.request("GET", "/hello")
            #expect(again.text == "hello world")
        }

        @Test func keepAliveServesManyRequestsOnOneConnection() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            for index in 0..<5 {
                let response = try client.request("GET", "/query?\(index)")
                #expect(response.status == 200)
                #expect(response.text == "\(index)")
            }
        }

        @Test func http10ClosesUnlessKeepAliveAsked() throws {
            let server = try TestServer()
            defer { server.stop() }
            let plain = try RawHTTPClient(port: server.port)
            plain.send("GET /hello HTTP/1.0\r\n\r\n")
            let first = try plain.readResponse()
            #expect(first.header("Connection") == "close")
            #expect(plain.isClosedByPeer())
            let kept = try RawHTTPClient(port: server.port)
            kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept.readResponse().header("Connection") == "keep-alive")
            kept.send("GET /query?2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept.readResponse().text == "2")
        }

        @Test func pipelinedRequestsAreAnsweredInOrder() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let one = "GET /query?1 HTTP/1.1\r\nHost: a\r\n\r\n"
            let two = "GET /later?30 HTTP/1.1\r\nHost: a\r\n\r\n"  // answered from another thread, in between
            let three = "GET /query?3 HTTP/1.1\r\nHost: a\r\n\r\n"
            #expect(client.send(one + two + three))
            #expect(try client.readResponse().text == "1")
            #expect(try client.readResponse().text == "later")
            #expect(try client.readResponse().text == "3")
        }

        @Test func accessLogLinesOfPipelinedRequestsAllReachTheDescriptorInOrder() throws {
            var ends: [Int32] = [0, 0]
            #expect(pipe(&ends) == 0)
            defer { close(ends[0]) }
            let server = try TestServer(logLines: true) { $0.accessLogDescriptor = ends[1] }
            let client = try RawHTTPClient(port: server.port)
            let count = 400  // about 6 KB of lines: more than one atomic write
            #expect(client.send((1...count).map { "GET /query?\($0) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined()))
            for index in 1...count { #expect(try client.readResponse().text == "\(index)") }
            #expect(client.send("GET /later?10 HTTP/1.1\r\nHost: a\r\n\r\n"))
            #expect(try client.readResponse().text == "later")
            #expect(server.stop())
            close(ends[1])
            var text: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(ends[0], &chunk, chunk.count)
                if n <= 0 { break }
                text += chunk[..<n]
            }
            let lines = String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines == Array(repeating: "GET /query 200", count: count) + ["GET /later 200", ""])
        }

        @Test func headerBlockFieldsFollowTheOthersAndAValueWithALineBreakIsLeftOut() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let response = try client.request("GET", "/block?ok")
            #expect(response.status == 200)
            #expect(response.text == "block")
            #expect(response.header("X-Plain") == "plain")
            #expect(response.header("X-Literal") == "fixed")
            #expect(response.header("X-Tag") == "\"abc\"")
            #expect(response.header("X-Query") == "ok")
            #expect(response.header("X-Added") == "later")
            let names = response.headers.map(\.0)
            let order = ["X-Plain", "X-Literal", "X-Tag", "X-Query", "X-Added", "Content-Length"].compactMap {
                names.firstIndex(of: $0)
            }
            #expect(order.count == 6 && order == order.sorted())

            let injected = try client.request("GET", "/block?a%0D%0AX-Injected:%20yes")
            #expect(injected.status == 200)
            #expect(injected.header("X-Injected") == nil)
            #expect(injected.header("X-Query") == nil)
            #expect(injected.header("X-Added") == "later")
            #expect(try client.request("GET", "/hello").text == "hello world", "the connection still frames correctly")
        }

        @Test func respondLaterAnswersFromAnotherThread() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let response = try client.request("GET", "/later?20")
            #expect(response.status == 200)
            #expect(response.text == "later")
        }

        @Test func accessLogHasPathWithoutQuery() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            _ = try client.request("GET", "/query?signature=secret")
            #expect(server.log.wait { $0.count == 1 })
            let entry = try #require(server.log.all.first)
            #expect(entry.path == "/query")
            #expect(entry.method == .get)
            #expect(entry.status == .ok)
            #expect(entry.remoteAddress == "127.0.0.1")
            #expect(entry.bytesSent > 0 && entry.bytesReceived > 0)
        }

        @Test func unknownRouteIsTheHandlersBusiness() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let response = try client.request("GET", "/nowhere")
            #expect(response.status == 404)
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.text == #"{"error": {"name": "NotFound", "description": "no route"}}"#)
        }

        @Test func bufferedBodyEchoesAndRefusesOversizeBodies() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let echo = try client.request("POST", "/echo", body: Array("{\"a\": 1}".utf8))
            #expect(echo.status == 200)
            #expect(echo.text == "{\"a\": 1}")
            let big = try client.request("POST", "/echo", body: [UInt8](repeating: 65, count: 2000))
            #expect(big.status == 413)
            #expect(big.text.contains("\"ContentTooLarge\""))
            #expect(client.isClosedByPeer())
        }
    }
}
