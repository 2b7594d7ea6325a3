import CHTTPParser
import Foundation
import TestSupport
import Testing

@testable import HTTPServer

extension HTTPServerSuite {
    /// The layer's own head reader (`HeadScanner`): what it reads must be what http_parser reads, and what it leaves
    /// alone must reach http_parser untouched; then the same requests end to end, whole, split and pipelined.
    @Suite struct HeadScanning {
        /// Heads to compare and to mutate: usual ones and ones the scanner must leave to http_parser.
        static let seeds: [String] = [
            "GET /sha512/abc HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n",
            "GET /query?a=b&c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            "GET /sha512/\(String(repeating: "0123456789abcdef", count: 8)) HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                + "Authorization: Bearer tok_0123456789abcdefghijklmnopqrstuv\r\nAccept-Encoding: identity\r\n\r\n",
            "PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
            "HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-Empty:\r\nX-Tab:\tv \t\r\n\r\n",
            "POST /echo HTTP/1.1\r\nhost: a\r\ncontent-length: 0012  \r\n\r\n",
            "DELETE /f HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            "GET /a HTTP/1.1\nHost: a\n\n",
            "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999999\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        ]

        /// What http_parser reads of a head: the same shape `HeadScanner` reports.
        final class Reading {
            /// The target.
            var url: [UInt8] = []
            /// Names and values as given to the callbacks (values untrimmed).
            var fields: [([UInt8], [UInt8])] = []
            /// True after a value callback for the last field.
            var inValue = false
            /// True once `on_headers_complete` came.
            var complete = false
            /// `content_length` at the end of the head (`UInt64.max` when there is none).
            var contentLength: UInt64 = 0
            /// `http_should_keep_alive` at the end of the head.
            var keepAlive = false
        }

        /// http_parser's reading of `bytes` up to the end of the head, how many bytes it took and its error state.
        static func httpParserReading(_ bytes: [UInt8]) -> (reading: Reading, parsed: Int, errno: http_errno) {
            let reading = Reading()
            var settings = http_parser_settings()
            func from(_ parser: UnsafeMutablePointer<http_parser>?) -> Reading {
                Unmanaged<Reading>.fromOpaque(parser!.pointee.data).takeUnretainedValue()
            }
            settings.on_url = { parser, at, length in
                from(parser).url += UnsafeRawBufferPointer(start: at, count: length)
                return 0
            }
            settings.on_header_field = { parser, at, length in
                let reading = from(parser)
                if reading.inValue || reading.fields.isEmpty { reading.fields.append(([], [])) }
                reading.inValue = false
                reading.fields[reading.fields.count - 1].0 += UnsafeRawBufferPointer(start: at, count: length)
                return 0
            }
            settings.on_header_value = { parser, at, length in
                let reading = from(parser)
                reading.inValue = true
                reading.fields[reading.fields.count - 1].1 += UnsafeRawBufferPointer(start: at, count: length)
                return 0
            }
            settings.on_headers_complete = { parser in
                let reading = from(parser)
                reading.complete = true
                reading.contentLength = parser!.pointee.content_length
                reading.keepAlive = http_should_keep_alive(parser) != 0
                http_parser_pause(parser, 1)
                return 0
            }
            var parser = http_parser()
            http_parser_init(&parser, HTTP_REQUEST)
            let parsed = withExtendedLifetime(reading) {
                parser.data = Unmanaged.passUnretained(reading).toOpaque()
                return bytes.withUnsafeBytes {
                    http_parser_execute(
                        &parser, &settings, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
                }
            }
            _ = parser.data
            return (reading, parsed, tt_http_parser_errno(&parser))
        }

        /// `bytes` without leading and trailing spaces and tabs (as the layer trims a value).
        static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
            var slice = bytes[...]
            while let first = slice.first, first == 0x20 || first == 0x09 { slice.removeFirst() }
            while let last = slice.last, last == 0x20 || last == 0x09 { slice.removeLast() }
            return Array(slice)
        }

        /// Checks one input: when `HeadScanner` reads it, http_parser reads the same head from it.
        static func check(_ bytes: [UInt8], configuration: HTTPServerConfiguration = HTTPServerConfiguration()) {
            var request = RequestState()
            let scanned = bytes.withUnsafeBytes { HeadScanner.scan($0, into: &request, configuration: configuration) }
            guard let head = scanned else {
                #expect(request.url.isEmpty && request.headers.count == 0, "left state behind: \(bytes)")
                return
            }
            let (reading, parsed, errno) = httpParserReading(bytes)
            let text = String(decoding: bytes, as: UTF8.self).debugDescription
            #expect(reading.complete && errno == HPE_PAUSED, "http_parser refused what HeadScanner read: \(text)")
            guard reading.complete else { return }
            #expect(parsed + 1 == head.length, "head length: \(text)")
            #expect(request.url == reading.url, "target: \(text)")
            #expect(head.method.rawValue == UInt8(parser(bytes).method), "method: \(text)")
            #expect(head.version == HTTPVersion(major: parser(bytes).major, minor: parser(bytes).minor), "\(text)")
            #expect(head.keepAlive == reading.keepAlive, "keep-alive: \(text)")
            let fields = request.headers.fields.map { (Array($0.name.utf8), Array($0.value.utf8)) }
            #expect(fields.count == reading.fields.count, "field count: \(text)")
            for (ours, theirs) in zip(fields, reading.fields) {
                #expect(ours.0 == theirs.0 && ours.1 == trimmed(theirs.1), "field: \(text)")
            }
            let hasLength = reading.contentLength != UInt64.max
            #expect(head.contentLength == (hasLength ? Int64(reading.contentLength) : nil), "length: \(text)")
            let hosts = request.headers.fields.filter { HTTPHeaders.equalNames($0.name, "Host") }.count
            #expect(head.hosts == hosts, "hosts: \(text)")
            #expect(head.expectsContinue == (request.headers["Expect"]?.lowercased() == "100-continue"), "\(text)")
        }

        /// http_parser's method number and version for `bytes` (parsed again; only for the comparison).
        static func parser(_ bytes: [UInt8]) -> (method: UInt32, major: Int, minor: Int) {
            var settings = http_parser_settings()
            settings.on_headers_complete = { parser in
                http_parser_pause(parser, 1)
                return 0
            }
            var parser = http_parser()
            http_parser_init(&parser, HTTP_REQUEST)
            _ = bytes.withUnsafeBytes {
                http_parser_execute(&parser, &settings, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
            }
            return (parser.method, Int(parser.http_major), Int(parser.http_minor))
        }

        @Test func theSeedsReadTheSameAsHttpParserReadsThem() {
            for seed in Self.seeds { Self.check(Array(seed.utf8)) }
            // The usual GET is read by the scanner (otherwise the comparisons above compare nothing).
            var request = RequestState()
            let usual = Array(Self.seeds[0].utf8)
            #expect(
                usual.withUnsafeBytes {
                    HeadScanner.scan($0, into: &request, configuration: HTTPServerConfiguration())
                }?.length == usual.count)
        }

        @Test func mutatedHeadsReadTheSameAsHttpParserReadsThem() {
            // A fixed seed: the same 40,000 inputs every run (a failure names its input).
            var random = SplitMix(seed: 0x5EED)
            let interesting: [UInt8] = [
                0x00, 0x09, 0x0A, 0x0D, 0x20, 0x22, 0x23, 0x2C, 0x3A, 0x3F, 0x7F, 0x80, 0xFF, 0x41
            ]
            var read = 0
            for round in 0..<40_000 {
                var bytes = Array(Self.seeds[round % Self.seeds.count].utf8)
                for _ in 0..<(1 + Int(random.next() % 3)) {
                    let at = Int(random.next() % UInt64(bytes.count))
                    switch random.next() % 4 {
                    case 0: bytes[at] = interesting[Int(random.next() % UInt64(interesting.count))]
                    case 1: bytes.remove(at: at)
                    case 2: bytes.insert(interesting[Int(random.next() % UInt64(interesting.count))], at: at)
                    default: bytes[at] = UInt8(truncatingIfNeeded: random.next())
                    }
                    if bytes.isEmpty { bytes = [0x20] }
                }
                var request = RequestState()
                if bytes.withUnsafeBytes({ HeadScanner.scan($0, into: &request, configuration: .init()) }) != nil {
                    read += 1
                }
                Self.check(bytes)
            }
            #expect(read > 1000, "too few mutated heads were read by the scanner to compare: \(read)")
        }

        @Test func headsNearALimitAreLeftToHttpParser() {
            var configuration = HTTPServerConfiguration()
            configuration.maxHeaderCount = 3
            configuration.maxHeaderLineBytes = 40
            let cases = [
                "GET /hello HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n",
                "GET /\(String(repeating: "a", count: 41)) HTTP/1.1\r\nHost: a\r\n\r\n",
                "GET /hello HTTP/1.1\r\nHost: a\r\nX: \(String(repeating: "v", count: 40))\r\n\r\n"
            ]
            for text in cases {
                var request = RequestState()
                let bytes = Array(text.utf8)
                #expect(
                    bytes.withUnsafeBytes { HeadScanner.scan($0, into: &request, configuration: configuration) } == nil)
            }
        }

        @Test func aHeadSplitAtEveryPointIsAnsweredTheSame() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let get = Array("GET /query?split HTTP/1.1\r\nHost: a\r\nX-Long: some value\r\n\r\n".utf8)
            let post = Array("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello".utf8)
            for (request, body) in [(get, "split"), (post, "hello")] {
                for split in 1..<request.count {
                    client.send(Array(request[..<split]))
                    usleep(1000)  // most likely a read of its own; either way the answer must be the same
                    client.send(Array(request[split...]))
                    let response = try client.readResponse()
                    #expect(response.status == 200 && response.text == body, "split at \(split)")
                }
            }
        }

        @Test func pipelinedRequestsReadEitherWayAreAnsweredInOrder() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            // The second is a folded header and the fourth a UTF-8 value: both left to http_parser.
            client.send(
                "GET /query?1 HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /query?2 HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /query?4 HTTP/1.1\r\nHost: a\r\nX-U: \u{E9}\r\n\r\n"
                    + "\r\nGET /query?5 HTTP/1.1\r\nHost: a\r\n\r\n")
            for expected in ["1", "2", "abc", "4", "5"] {
                let response = try client.readResponse()
                #expect(response.status == 200 && response.text == expected)
            }
        }

        /// One request, what the layer answers, and what it answers a `GET /hello` after it on the same connection
        /// (nil: it closes instead).
        struct Case: CustomTestStringConvertible, Sendable {
            /// The case's name, its raw request, the status it gets, and the status of a GET after it (nil: closed).
            let name: String, request: String, status: Int, next: Int?
            /// The case with its fields in that order.
            init(_ name: String, _ request: String, _ status: Int, next: Int?) {
                (self.name, self.request, self.status, self.next) = (name, request, status, next)
            }
            /// The name.
            var testDescription: String { name }
        }

        /// The edge cases and their answers (those the scanner leaves alone are http_parser's, as before it).
        static let cases: [Case] = [
            Case("HTTP/1.0 closes", "GET /hello HTTP/1.0\r\n\r\n", 200, next: nil),
            Case("Connection: close", "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n", 200, next: nil),
            Case("no Host", "GET /hello HTTP/1.1\r\n\r\n", 400, next: nil),
            Case("bare LF lines", "GET /hello HTTP/1.1\nHost: a\n\n", 200, next: 200),
            Case("obs-fold", "GET /hello HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 200, next: 200),
            Case("space in a name", "GET /hello HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n", 400, next: nil),
            Case("invalid byte in a name", "GET /hello HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", 400, next: nil),
            Case("invalid method", "G(T /hello HTTP/1.1\r\nHost: a\r\n\r\n", 400, next: nil),
            Case(
                "equal lengths twice",
                "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
                400, next: nil),
            Case("length with a sign", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx", 400, next: nil),
            Case(
                "length overflow", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                400, next: nil),
            Case("empty length", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400, next: nil),
            Case(
                "chunked and length",
                "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
                400, next: nil),
            // http_parser ends its reading after an upgrade request, which is answered as any other.
            Case(
                "upgrade", "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", 200,
                next: 200)
        ]

        @Test(arguments: cases)
        func edgeCasesAreAnsweredAsBefore(_ edge: Case) throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port, timeout: 3)
            client.send(edge.request)
            let response = try client.readResponse()
            #expect(response.status == edge.status, "\(edge.name): \(response.text)")
            if let next = edge.next {
                #expect(try client.request("GET", "/hello").status == next, "\(edge.name)")
            } else {
                #expect(client.isClosedByPeer(), "\(edge.name)")
            }
        }
    }
}

/// A small seeded generator (SplitMix64), so a test's random inputs are the same every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    /// The generator that starts at `seed`.
    init(seed: UInt64) { state = seed }
    /// The next number.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1330_49EB
        return z ^ (z >> 31)
    }
}
