import Foundation
import HTTPServer
import Shared
import TestSupport
import Testing

extension HTTPServerSuite {
    /// Requests the layer itself refuses, each with the JSON error body and a close.
    @Suite struct Rejections {
        static let longValue = String(repeating: "a", count: 9000)
        static let manyHeaders = (0..<101).map { "X-H\($0): v\r\n" }.joined()
        static let bigHead = (0..<9).map { "X-B\($0): \(String(repeating: "b", count: 7900))\r\n" }.joined()

        /// One refused request; its test name is just `name`.
        struct Case: CustomTestStringConvertible, Sendable {
            let name: String, request: String, status: Int, errorName: APIErrorName
            init(_ name: String, _ request: String, _ status: Int, _ errorName: APIErrorName) {
                (self.name, self.request, self.status, self.errorName) = (name, request, status, errorName)
            }
            var testDescription: String { name }
        }

        static let cases: [Case] = [
            Case("version 2.0", "GET /hello HTTP/2.0\r\nHost: a\r\n\r\n", 400, .badRequest),
            Case("version 1.2", "GET /hello HTTP/1.2\r\nHost: a\r\n\r\n", 400, .badRequest),
            Case("two Host", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, .badRequest),
            Case("space before colon", "GET /hello HTTP/1.1\r\nHost : a\r\n\r\n", 400, .badRequest),
            Case(
                "long header line", "GET /hello HTTP/1.1\r\nHost: a\r\nX-Long: \(longValue)\r\n\r\n", 400, .badRequest),
            Case(
                "lengths differ",
                "PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400,
                .badRequest),
            Case(
                "length and chunked",
                "PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                400, .badRequest),
            Case("NUL in value", "GET /hello HTTP/1.1\r\nHost: a\r\nX-A: b\u{0}c\r\n\r\n", 400, .badRequest),
            Case("NUL in target", "GET /he\u{0}llo HTTP/1.1\r\nHost: a\r\n\r\n", 400, .badRequest),
            Case("garbage", "HELLO THERE\r\n\r\n", 400, .badRequest),
            Case(
                "chunked body",
                "PUT /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411,
                .lengthRequired),
            Case(
                "too many headers", "GET /hello HTTP/1.1\r\nHost: a\r\n\(manyHeaders)\r\n", 431,
                .requestHeaderFieldsTooLarge),
            Case(
                "head too large", "GET /hello HTTP/1.1\r\nHost: a\r\n\(bigHead)\r\n", 431, .requestHeaderFieldsTooLarge),
            Case("long target", "GET /\(longValue) HTTP/1.1\r\nHost: a\r\n\r\n", 414, .uriTooLong)
        ]

        @Test(arguments: cases)
        func refusedWithJSONErrorAndClose(_ refused: Case) throws {
            let (name, request, status, errorName) = (refused.name, refused.request, refused.status, refused.errorName)
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port, timeout: 3)
            client.send(request)
            let response = try client.readResponse()
            #expect(response.status == status, "\(name)")
            #expect(response.header("Content-Type") == "application/json", "\(name)")
            #expect(response.header("Connection") == "close", "\(name)")
            #expect(response.header("Server") == nil, "\(name)")
            #expect(
                response.text.hasPrefix("{\"error\": {\"name\": \"\(errorName.rawValue)\", \"description\": \""),
                "\(name): \(response.text)")
            #expect(client.isClosedByPeer(), "\(name)")
        }

        @Test func limitsFollowTheConfiguration() throws {
            let server = try TestServer { $0.maxHeaderCount = 3 }
            defer { server.stop() }
            let ok = try RawHTTPClient(port: server.port)
            #expect(try ok.request("GET", "/hello", headers: [("A", "1"), ("B", "2")]).status == 200)
            let refused = try RawHTTPClient(port: server.port)
            #expect(try refused.request("GET", "/hello", headers: [("A", "1"), ("B", "2"), ("C", "3")]).status == 431)
        }
    }
}
