import Foundation
import Shared
import TestSupport
import Testing

/// Hostile or broken requests against a real `tooltool-server`: each gets the right 4xx with the JSON error body,
/// and a normal GET on the same server works after every one of them.
///
/// Cases are raw request text; `{D}` is the digest of a stored public blob, `{T}` a token that may upload and
/// manage. The layer's own refusals are also unit-tested in HTTPServerTests/RejectionTests, single Range forms in
/// ServerTests/BlobGetTests, batch validation in ServerTests/APIValidationTests.
@Suite struct BadInputTests {
    /// One hostile request and the answer it must get (`name` nil: any error name; `allow`: the `Allow` header).
    struct Case: Sendable {
        let label: String, request: String, status: Int, name: APIErrorName?, allow: String?
        init(_ label: String, _ request: String, _ status: Int, _ name: APIErrorName? = nil, allow: String? = nil) {
            (self.label, self.request, self.status, self.name, self.allow) = (label, request, status, name, allow)
        }
    }

    static func get(_ target: String, _ extra: String = "") -> String {
        "GET \(target) HTTP/1.1\r\nHost: a\r\n\(extra)\r\n"
    }

    static let traversals = [
        "..", "../../etc/passwd", "%2e%2e", "%2E%2E", "%2e%2E", ".%2e", "%2e.", "%252e%252e",
        "..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc", "..%5c..%5c", "%2e%2e%5c", "%c0%ae%c0%ae",
        "%e0%80%ae%e0%80%ae", "..;/", "%2e%2e;", "{D}/..", "{D}/../{D}", "./{D}", "{D}%00", "{D}%2f"
    ]

    static let pathCases: [Case] = {
        var cases: [Case] = []
        for traversal in traversals {
            cases.append(Case("blob \(traversal)", get("/sha512/\(traversal)"), 400, .badDigest))
            // A traversal with a `/` in it makes another route shape: no such route.
            let (status, name): (Int, APIErrorName) = traversal.contains("/") ? (404, .notFound) : (400, .badDigest)
            cases.append(
                Case(
                    "file \(traversal)", get("/file/sha512/\(traversal)", "Authorization: Bearer {T}\r\n"), status, name
                ))
            cases.append(
                Case(
                    "complete \(traversal)",
                    get("/upload/complete/sha512/\(traversal)", "Authorization: Bearer {T}\r\n"), status, name))
            cases.append(
                Case(
                    "PUT \(traversal)",
                    "PUT /sha512/\(traversal) HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {T}\r\nContent-Length: 0\r\n\r\n",
                    400, .badDigest))
        }
        for prefix in ["/..", "/%2e%2e", "/%2E%2e", "/.%2e", "//..", "/./"] {
            cases.append(Case("prefix \(prefix)", get("\(prefix)/sha512/{D}"), 404, .notFound))
        }
        cases += [
            Case("upload ..", get("/upload/..", "Authorization: Bearer {T}\r\n"), 404, .notFound),
            Case(
                "upload %2e%2e manifest", get("/upload/%2e%2e/manifest", "Authorization: Bearer {T}\r\n"), 404,
                .notFound),
            Case("double slash first", get("//sha512/{D}"), 404, .notFound),
            Case("double slash inside", get("/sha512//{D}"), 400, .badDigest),
            Case("trailing slash", get("/sha512/{D}/"), 400, .badDigest),
            Case("only slashes", get("//"), 404, .notFound),
            Case("NUL in path", "GET /sha512/\u{0}{D} HTTP/1.1\r\nHost: a\r\n\r\n", 400, .badRequest),
            Case("NUL after digest", "GET /sha512/{D}\u{0} HTTP/1.1\r\nHost: a\r\n\r\n", 400, .badRequest),
            Case("path over the line limit", get("/sha512/" + String(repeating: "a", count: 9000)), 414, .uriTooLong),
            Case("long path under the limit", get("/sha512/" + String(repeating: "a", count: 8000)), 400, .badDigest),
            Case("long unknown path", get("/" + String(repeating: "x/", count: 3000)), 404, .notFound),
            Case("digest 127", get("/sha512/" + String(repeating: "a", count: 127)), 400, .badDigest),
            Case("digest 129", get("/sha512/" + String(repeating: "a", count: 129)), 400, .badDigest),
            Case("digest empty", get("/sha512/"), 400, .badDigest),
            Case("digest uppercase", get("/sha512/{DU}"), 400, .badDigest),
            Case("digest non-hex", get("/sha512/" + String(repeating: "g", count: 128)), 400, .badDigest),
            Case("digest non-ASCII", get("/sha512/" + String(repeating: "é", count: 64)), 400, .badDigest),
            Case("digest sha1", get("/sha1/" + String(repeating: "a", count: 40)), 404, .notFound),
            Case("algorithm uppercase", get("/SHA512/{D}"), 404, .notFound),
            Case("unknown route", get("/nope"), 404, .notFound),
            Case("absolute-form target", get("http://evil.example/etc/passwd"), 404, .notFound),
            Case("asterisk target", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 404, .notFound),
            Case("unknown method", "BREW /sha512/{D} HTTP/1.1\r\nHost: a\r\n\r\n", 400, .badRequest),
            Case(
                "DELETE blob", "DELETE /sha512/{D} HTTP/1.1\r\nHost: a\r\n\r\n", 405, .methodNotAllowed,
                allow: "GET, HEAD, PUT"),
            Case(
                "POST blob", "POST /sha512/{D} HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 405,
                .methodNotAllowed, allow: "GET, HEAD, PUT"),
            Case(
                "OPTIONS blob", "OPTIONS /sha512/{D} HTTP/1.1\r\nHost: a\r\n\r\n", 405, .methodNotAllowed,
                allow: "GET, HEAD, PUT"),
            Case(
                "TRACE blob", "TRACE /sha512/{D} HTTP/1.1\r\nHost: a\r\n\r\n", 405, .methodNotAllowed,
                allow: "GET, HEAD, PUT"),
            Case(
                "POST heartbeat", "POST /__heartbeat__ HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 405,
                .methodNotAllowed, allow: "GET, HEAD"),
            Case(
                "PUT metrics", "PUT /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 405, .methodNotAllowed,
                allow: "GET, HEAD"),
            Case(
                "DELETE version", "DELETE /__version__ HTTP/1.1\r\nHost: a\r\n\r\n", 405, .methodNotAllowed,
                allow: "GET, HEAD"),
            Case(
                "PATCH upload", "PATCH /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 405,
                .methodNotAllowed, allow: "GET, HEAD, POST"),
            Case(
                "DELETE file", "DELETE /file/sha512/{D} HTTP/1.1\r\nHost: a\r\n\r\n", 405, .methodNotAllowed,
                allow: "GET, HEAD, PATCH"),
            Case(
                "POST complete", "POST /upload/complete/sha512/{D} HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
                405, .methodNotAllowed, allow: "GET"),
            Case(
                "PUT file search", "PUT /file HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 405, .methodNotAllowed,
                allow: "GET, HEAD")
        ]
        return cases
    }()

    static let headerCases: [Case] = {
        let put = "PUT /sha512/{D}?visibility=public HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {T}\r\n"
        let many = (0..<101).map { "X-H\($0): v\r\n" }.joined()
        let thousand = (0..<1000).map { "X-H\($0): v\r\n" }.joined()
        let big = (0..<9).map { "X-B\($0): \(String(repeating: "b", count: 7900))\r\n" }.joined()
        return [
            Case("101 headers", get("/sha512/{D}", many), 431, .requestHeaderFieldsTooLarge),
            Case("1000 headers", get("/sha512/{D}", thousand), 431, .requestHeaderFieldsTooLarge),
            Case("head over 64 KiB", get("/sha512/{D}", big), 431, .requestHeaderFieldsTooLarge),
            Case(
                "header line over 8 KiB", get("/sha512/{D}", "X-Long: \(String(repeating: "a", count: 9000))\r\n"), 400,
                .badRequest),
            Case(
                "cookie over 8 KiB", get("/sha512/{D}", "Cookie: \(String(repeating: "c=1; ", count: 2000))\r\n"), 400,
                .badRequest),
            Case("length negative", put + "Content-Length: -1\r\n\r\n", 400, .badRequest),
            Case("length non-numeric", put + "Content-Length: abc\r\n\r\n", 400, .badRequest),
            Case("length exponent", put + "Content-Length: 1e3\r\n\r\n", 400, .badRequest),
            Case("length plus sign", put + "Content-Length: +5\r\n\r\n", 400, .badRequest),
            Case("length hex", put + "Content-Length: 0x10\r\n\r\n", 400, .badRequest),
            Case("length empty", put + "Content-Length: \r\n\r\n", 400, .badRequest),
            Case("length overflow", put + "Content-Length: 99999999999999999999999\r\n\r\n", 400, .badRequest),
            Case("length list", put + "Content-Length: 5, 6\r\n\r\nhello!", 400, .badRequest),
            Case("two lengths", put + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400, .badRequest),
            Case(
                "length with chunked",
                put + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, .badRequest
            ),
            Case(
                "chunked PUT", put + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411, .lengthRequired),
            Case("identity PUT", put + "Transfer-Encoding: identity\r\n\r\n", 411, .lengthRequired),
            Case("gzip, chunked PUT", put + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 411, .lengthRequired),
            Case(
                "lowercase chunked POST",
                "POST /upload HTTP/1.1\r\nHost: a\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n", 411, .lengthRequired),
            Case(
                "chunked GET", get("/sha512/{D}", "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n", 411, .lengthRequired),
            Case("range list with a bad spec", get("/sha512/{D}", "Range: bytes=0-1,5-x\r\n"), 400, .badRange),
            Case("range letters", get("/sha512/{D}", "Range: bytes=abc\r\n"), 400, .badRange),
            Case("range reversed", get("/sha512/{D}", "Range: bytes=5-2\r\n"), 400, .badRange),
            Case("range empty", get("/sha512/{D}", "Range: bytes=\r\n"), 400, .badRange),
            Case("range double dash", get("/sha512/{D}", "Range: bytes=--1\r\n"), 400, .badRange),
            Case("range huge number", get("/sha512/{D}", "Range: bytes=99999999999999999999-\r\n"), 400, .badRange),
            Case("range negative end", get("/sha512/{D}", "Range: bytes=0--5\r\n"), 400, .badRange),
            Case("range no equals", get("/sha512/{D}", "Range: 0-10\r\n"), 400, .badRange),
            Case("range past end", get("/sha512/{D}", "Range: bytes=100000000-\r\n"), 416, .rangeNotSatisfiable),
            Case("two Range headers", get("/sha512/{D}", "Range: bytes=0-1\r\nRange: bytes=2-3\r\n"), 400, .badRange),
            Case("auth Basic", get("/sha512/{D}", "Authorization: Basic dXNlcjpwYXNz\r\n"), 401, .unauthorized),
            Case("auth Token scheme", get("/sha512/{D}", "Authorization: Token {T}\r\n"), 401, .unauthorized),
            Case("auth bearer no space", get("/sha512/{D}", "Authorization: Bearer{T}\r\n"), 401, .unauthorized),
            Case("auth Bearer empty", get("/sha512/{D}", "Authorization: Bearer \r\n"), 401, .unauthorized),
            Case("auth empty", get("/sha512/{D}", "Authorization: \r\n"), 401, .unauthorized),
            Case(
                "auth unknown token",
                get("/sha512/{D}", "Authorization: Bearer \(String(repeating: "0", count: 64))\r\n"), 401, .unauthorized
            ),
            Case("auth token with suffix", get("/sha512/{D}", "Authorization: Bearer {T}x\r\n"), 401, .unauthorized),
            Case(
                "auth huge token",
                get("/sha512/{D}", "Authorization: Bearer \(String(repeating: "t", count: 8000))\r\n"), 401,
                .unauthorized),
            Case("version 2.0", "GET /sha512/{D} HTTP/2.0\r\nHost: a\r\n\r\n", 400, .badRequest),
            Case("version 0.9", "GET /sha512/{D} HTTP/0.9\r\nHost: a\r\n\r\n", 400, .badRequest),
            Case("two Host", get("/sha512/{D}", "Host: b\r\n"), 400, .badRequest),
            Case("no Host in 1.1", "GET /sha512/{D} HTTP/1.1\r\n\r\n", 400, .badRequest),
            Case("space before colon", get("/sha512/{D}", "X-A : b\r\n"), 400, .badRequest),
            Case("bad header name", get("/sha512/{D}", "X(A): b\r\n"), 400, .badRequest),
            Case("NUL in header value", get("/sha512/{D}", "X-A: b\u{0}c\r\n"), 400, .badRequest),
            Case("CR in header value", get("/sha512/{D}", "X-A: b\rc\r\n"), 400, .badRequest)
        ]
    }()

    static let bodyCases: [Case] = {
        func post(_ target: String, _ body: String, method: String = "POST") -> String {
            "\(method) \(target) HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {T}\r\nContent-Type: application/json\r\n"
                + "Content-Length: {LEN}\r\n\r\n\(body)"
        }
        func patch(_ body: String) -> String { post("/file/sha512/{D}", body, method: "PATCH") }
        let file = #"{"size": 1, "digest": "{D}", "algorithm": "sha512", "visibility": "public"}"#
        let deepArray = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let deepObject = String(repeating: #"{"a":"#, count: 20_000) + "1" + String(repeating: "}", count: 20_000)
        let huge = "{\"message\": \"" + String(repeating: "m", count: (1 << 20) + 10) + "\"}"
        return [
            Case("malformed JSON", post("/upload", #"{"message": "#), 400, .badJSON),
            Case("not JSON", post("/upload", "message=hi&files=x"), 400, .badJSON),
            Case("trailing garbage", post("/upload", #"{"message": "m"} x"#), 400, .badJSON),
            Case("lone surrogate escape", post("/upload", #"{"message": "\ud800", "files": {"a": \#(file)}}"#), 400),
            Case("deep arrays", post("/upload", deepArray), 400, .badJSON),
            Case("deep objects", post("/upload", deepObject), 400, .badJSON),
            Case("empty body", post("/upload", ""), 400, .badJSON),
            Case("JSON null", post("/upload", "null"), 400, .badRequest),
            Case("JSON list", post("/upload", "[]"), 400, .badRequest),
            Case("JSON string", post("/upload", #""upload""#), 400, .badRequest),
            Case("message number", post("/upload", #"{"message": 5, "files": {"a": \#(file)}}"#), 400, .badRequest),
            Case("files list", post("/upload", #"{"message": "m", "files": []}"#), 400, .badRequest),
            Case(
                "size string",
                post(
                    "/upload",
                    #"{"message": "m", "files": {"a": {"size": "1", "digest": "{D}", "algorithm": "sha512", "visibility": "public"}}}"#
                ), 400, .badRequest),
            Case(
                "size float",
                post(
                    "/upload",
                    #"{"message": "m", "files": {"a": {"size": 1.5, "digest": "{D}", "algorithm": "sha512", "visibility": "public"}}}"#
                ), 400, .badRequest),
            Case(
                "size 1e400",
                post(
                    "/upload",
                    #"{"message": "m", "files": {"a": {"size": 1e400, "digest": "{D}", "algorithm": "sha512", "visibility": "public"}}}"#
                ), 400),
            Case(
                "size overflow",
                post(
                    "/upload",
                    #"{"message": "m", "files": {"a": {"size": 99999999999999999999999, "digest": "{D}", "algorithm": "sha512", "visibility": "public"}}}"#
                ), 400),
            Case(
                "size negative",
                post(
                    "/upload",
                    #"{"message": "m", "files": {"a": {"size": -1, "digest": "{D}", "algorithm": "sha512", "visibility": "public"}}}"#
                ), 400, .badRequest),
            Case(
                "digest number",
                post(
                    "/upload",
                    #"{"message": "m", "files": {"a": {"size": 1, "digest": 7, "algorithm": "sha512", "visibility": "public"}}}"#
                ), 400, .badRequest),
            Case("file null", post("/upload", #"{"message": "m", "files": {"a": null}}"#), 400, .badRequest),
            Case(
                "filename traversal", post("/upload", #"{"message": "m", "files": {"../../etc/passwd": \#(file)}}"#),
                400, .badFilename),
            Case(
                "filename NUL", post("/upload", #"{"message": "m", "files": {"a\u0000b": \#(file)}}"#), 400,
                .badFilename),
            Case("duplicate keys", post("/upload", #"{"message": "m", "message": 5, "files": {"a": \#(file)}}"#), 400),
            Case("huge body to /upload", post("/upload", huge), 413),
            Case(
                "huge body to PATCH",
                patch("[" + String(repeating: #"{"op": "delete_instances"},"#, count: 40_000) + "{}]"), 413),
            Case("PATCH malformed", patch("[{"), 400, .badJSON),
            Case("PATCH deep", patch(deepArray), 400, .badJSON),
            Case("PATCH object", patch(#"{"op": "delete_instances"}"#), 400, .badRequest),
            Case("PATCH op number", patch(#"[{"op": 1}]"#), 400, .badRequest),
            Case("PATCH unknown op", patch(#"[{"op": "chmod"}]"#), 400, .badOperation),
            Case(
                "PATCH visibility number", patch(#"[{"op": "set_visibility", "visibility": 1}]"#), 400, .badVisibility),
            Case("PATCH list of strings", patch(#"["delete_instances"]"#), 400, .badRequest)
        ]
    }()

    /// Sends each case on a fresh connection of one server, checks its answer, then a normal GET there.
    static func run(_ cases: [Case], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let store = try Store(tokens: ["all": [.uploadPublic, .uploadInternal, .downloadInternal, .manage]])
        let blob = Fixtures.randomBytes(10_000)
        #expect(try store.put(blob, user: "all").status == 200)
        let digest = Fixtures.digest(blob)
        for item in cases {
            var text = item.request.replacingOccurrences(of: "{DU}", with: digest.hex.uppercased())
                .replacingOccurrences(of: "{D}", with: digest.hex).replacingOccurrences(
                    of: "{T}", with: store.tokens["all"]!)
            if let split = text.range(of: "\r\n\r\n") {
                text = text.replacingOccurrences(of: "{LEN}", with: String(text[split.upperBound...].utf8.count))
            }
            let client = try RawHTTPClient(port: store.port, timeout: 10)
            client.send(text)
            do {
                let response = try client.readResponse(isHead: text.hasPrefix("HEAD"))
                #expect(
                    response.status == item.status,
                    "\(item.label): \(response.statusLine) \(response.text.prefix(300))",
                    sourceLocation: sourceLocation)
                #expect(
                    response.isJSONError, "\(item.label): \(response.text.prefix(300))", sourceLocation: sourceLocation)
                if let name = item.name {
                    #expect(
                        response.errorName == name, "\(item.label): \(response.text.prefix(300))",
                        sourceLocation: sourceLocation)
                }
                if let allow = item.allow {
                    #expect(response.header("Allow") == allow, "\(item.label)", sourceLocation: sourceLocation)
                }
                #expect(response.header("Server") == nil, "\(item.label)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(item.label): no answer: \(error)", sourceLocation: sourceLocation)
            }
            #expect(store.serves(blob), "\(item.label): the server still serves", sourceLocation: sourceLocation)
        }
        print("BadInputTests: \(cases.count) cases answered, server serving after each")
    }

    @Test func paths() throws { try Self.run(Self.pathCases) }
    @Test func headers() throws { try Self.run(Self.headerCases) }
    @Test func bodies() throws { try Self.run(Self.bodyCases) }

    /// A PUT that sends more than its `Content-Length`: the announced bytes are the upload (stored when they
    /// verify), and the rest is read as the next request, which is refused with 400 and a close.
    @Test func putLargerThanItAnnouncedStoresOnlyTheAnnouncedBytes() throws {
        let store = try Store(tokens: ["up": [.uploadPublic]])
        let blob = Fixtures.randomBytes(5000)
        let digest = Fixtures.digest(blob)
        let client = try RawHTTPClient(port: store.port)
        let head =
            "PUT /sha512/\(digest.hex)?visibility=public HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(store.tokens["up"]!)\r\n"
            + "Content-Length: \(blob.count)\r\n\r\n"
        client.send(Array(head.utf8) + blob + Array(repeating: UInt8(ascii: "x"), count: 3000) + Array("\r\n\r\n".utf8))
        let first = try client.readResponse()
        #expect(first.status == 200, "\(first.text)")
        let second = try client.readResponse()
        #expect(second.status == 400 && second.isJSONError, "\(second.statusLine) \(second.text)")
        #expect(client.isClosedByPeer())
        #expect(Fixtures.read(store.blobPath(digest, .public)) == blob)
        #expect(store.serves(blob))

        // Extra bytes that hash wrong with the announced ones: a digest mismatch, nothing stored.
        let other = Fixtures.randomBytes(5000)
        let wrong = try RawHTTPClient(port: store.port)
        let head2 =
            "PUT /sha512/\(Fixtures.digest(other).hex)?visibility=public HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(store.tokens["up"]!)\r\n"
            + "Content-Length: 4000\r\n\r\n"
        wrong.send(Array(head2.utf8) + other)
        expectError(try wrong.readResponse(), 400, .digestMismatch)
        #expect(!exists(store.blobPath(Fixtures.digest(other), .public)))
        #expect(eventually { store.temporaryFiles().isEmpty })
    }

    /// A slowloris (a head trickled a byte at a time) is answered 408 and closed after `--header-timeout`, while
    /// other clients are served meanwhile.
    @Test func slowlorisIsCutAtTheHeadDeadlineWhileOthersAreServed() throws {
        let store = try Store(tokens: ["up": [.uploadPublic]], arguments: ["--header-timeout", "2"])
        let blob = Fixtures.randomBytes(1000)
        #expect(try store.put(blob, user: "up").status == 200)
        let slow = try RawHTTPClient(port: store.port, timeout: 30)
        let started = Date()
        var cut = false
        var served = 0
        let text =
            Array("GET /sha512/\(Fixtures.digest(blob).hex) HTTP/1.1\r\nHost: a\r\n".utf8)
            + Array((0..<200).map { "X-\($0): y\r\n" }.joined().utf8)
        for byte in text.prefix(400) {  // bounded: 400 bytes, 50 ms apart, at most 20 s
            if !slow.send([byte]) { cut = true; break }
            if store.serves(blob) { served += 1 }
            usleep(50_000)
            if Date().timeIntervalSince(started) > 20 { break }
        }
        let response = try? slow.readResponse()
        #expect(cut || response != nil, "the slow client was cut off")
        if let response { expectError(response, 408, .requestTimeout) }
        #expect(served > 10, "others were served meanwhile (\(served))")
        #expect(store.serves(blob))
    }

    /// Past `--max-connections`, with no idle connection to close, a new connection gets 503 with the error body;
    /// once others go, connections are served again.
    @Test func connectionCapIsAnsweredCleanly() throws {
        let store = try Store(tokens: ["up": [.uploadPublic]], arguments: ["--max-connections", "4", "--threads", "1"])
        let blob = Fixtures.randomBytes(1000)
        #expect(try store.put(blob, user: "up").status == 200)
        // Four connections busy with unfinished heads (not idle, so none can be evicted).
        var busy: [RawHTTPClient] = []
        for _ in 0..<4 {
            let client = try RawHTTPClient(port: store.port)
            client.send("GET /sha512/\(Fixtures.digest(blob).hex) HTTP/1.1\r\nHost: a\r\n")
            busy.append(client)
        }
        usleep(200_000)
        let extra = try RawHTTPClient(port: store.port)
        extra.send("GET /__lbheartbeat__ HTTP/1.1\r\nHost: a\r\n\r\n")
        let refused = try extra.readResponse()
        expectError(refused, 503, .serviceUnavailable)
        #expect(extra.isClosedByPeer())
        // The busy ones finish their heads and are served.
        for client in busy {
            client.send("\r\n")
            #expect(try client.readResponse().body == blob)
        }
        busy.removeAll()
        #expect(eventually { store.serves(blob) })
    }
}
