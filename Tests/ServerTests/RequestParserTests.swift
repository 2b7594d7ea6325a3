import Shared
import Storage
import Testing

@testable import ServerApp

/// The pure parsers of the request path, in process: `Range` headers, query strings and the `POST /upload` body.
/// (The end-to-end suites send the same inputs over HTTP; these pin the edge cases one by one.)
@Suite struct RequestParserTests {
    @Test(
        arguments: [
            // (header, size, expected)
            (nil, 100, ByteRange.whole),
            ("bytes=0-9", 100, .partial(first: 0, last: 9)),
            ("  bytes=10-\t", 100, .partial(first: 10, last: 99)),
            ("bytes=-10", 100, .partial(first: 90, last: 99)),
            ("bytes=-1000", 100, .partial(first: 0, last: 99)),
            ("bytes=90-1000", 100, .partial(first: 90, last: 99)),
            ("BYTES=0-0", 100, .partial(first: 0, last: 0)),
            ("bytes= 5-6 ,", 100, .partial(first: 5, last: 6)),
            ("bytes=100-", 100, .unsatisfiable),
            ("bytes=-0", 100, .unsatisfiable),
            ("bytes=0-", 0, .unsatisfiable),
            ("bytes=0-1,5-6", 100, .whole),
            ("bytes=200-300,400-", 100, .unsatisfiable),
            ("items=0-9", 100, .whole)
        ] as [(String?, Int64, ByteRange)])
    func rangeHeaders(_ header: String?, _ size: Int64, _ expected: ByteRange) {
        #expect(ByteRange.parse(header, size: size) == expected, "\(header ?? "nil")")
    }

    @Test(arguments: [
        "bytes", "bytes=", "bytes=,", "bytes=5", "bytes=a-9", "bytes=0-b", "bytes=9-0",
        "bytes=--5", "bytes=0-1,x", "bytes=1234567890123456789-", "bytes=+1-2", "bytes=٣-5"
    ])
    func malformedRangeHeaders(_ header: String) {
        guard case .invalid = ByteRange.parse(header, size: 100) else {
            Issue.record("\(header) was not refused: \(ByteRange.parse(header, size: 100))")
            return
        }
    }

    @Test func queryStrings() throws {
        let query = try #require(QueryString("q=two+words&visibility=internal&q=%2Fsecond%3F&empty=&flag"))
        #expect(query["q"] == "two words")
        #expect(query.count("q") == 2)
        #expect(query.pairs.map(\.1) == ["two words", "internal", "/second?", "", ""])
        #expect(query["flag"] == "" && query["missing"] == nil)
        #expect(QueryString(nil)?.pairs.isEmpty == true)
        #expect(QueryString("&&a=1&&")?.pairs.map(\.0) == ["a"])
        #expect(QueryString("a=%e2%82%ac")?["a"] == "€")
        // A broken escape or bytes that are not UTF-8 refuse the whole query.
        for bad in ["a=%", "a=%4", "a=%zz", "%G0=1", "a=%ff%fe"] {
            #expect(QueryString(bad) == nil, "\(bad)")
        }
        let pairs = [("q", "a b/c?&=é"), ("x", "-._~")]
        let encoded = QueryString.encode(pairs)
        #expect(encoded == "q=a%20b%2Fc%3F%26%3D%C3%A9&x=-._~")
        #expect(QueryString(encoded)?.pairs.map(\.1) == pairs.map(\.1))
    }

    static let digest = String(repeating: "ab", count: 64)

    static func batch(_ files: String, message: String = #""m""#) throws -> JSONValue {
        try JSONParser.parse(#"{"message": \#(message), "files": \#(files)}"#)
    }

    @Test func aBatchAsTooltoolSendsIt() throws {
        let document = try Self.batch(
            #"""
            {"b.tar.xz": {"size": 10, "digest": "\#(Self.digest)", "algorithm": "sha512", "visibility": "internal",
                          "put_url": "ignored"},
             "a.zip": {"size": 0, "digest": "\#(Self.digest)", "algorithm": "sha512", "visibility": "public"}}
            """#, message: #""Add clang""#)
        let request = try UploadBatchRequest(document)
        #expect(request.message == "Add clang")
        #expect(request.files.map(\.filename) == ["b.tar.xz", "a.zip"])
        #expect(request.files.map(\.size) == [10, 0])
        #expect(request.visibilities == [.public, .internal])
        #expect(request.files.allSatisfy { $0.digest.hex == Self.digest })
    }

    @Test(
        arguments: [
            (#"[]"#, APIErrorName.badRequest, "the batch must be a JSON object, got an array"),
            (#"{"author": "me", "message": "m", "files": {}}"#, .badRequest, "author must not be sent"),
            (#"{"files": {}}"#, .badRequest, "message is missing"),
            (#"{"message": 5, "files": {}}"#, .badRequest, "message must be a string, got a number"),
            (#"{"message": " \t", "files": {}}"#, .badRequest, "message must not be empty"),
            (#"{"message": "m"}"#, .badRequest, "files is missing"),
            (#"{"message": "m", "files": []}"#, .badRequest, "files must be an object"),
            (#"{"message": "m", "files": {}}"#, .badRequest, "files must name at least one file"),
            (#"{"message": "m", "files": {"../x": {}}}"#, .badFilename, "filename must not contain '/'"),
            (#"{"message": "m", "files": {"x": 1}}"#, .badRequest, #"files["x"] must be an object"#),
            (
                #"{"message": "m", "files": {"x": {"digest": "d", "algorithm": "sha512", "visibility": "public"}}}"#,
                .badRequest, #"files["x"].size is missing"#
            ),
            (
                #"{"message": "m", "files": {"x": {"size": 1.5, "digest": "d", "algorithm": "sha512", "visibility": "public"}}}"#,
                .badRequest, #"files["x"].size must be an integer"#
            ),
            (
                #"{"message": "m", "files": {"x": {"size": -1, "digest": "d", "algorithm": "sha512", "visibility": "public"}}}"#,
                .badRequest, "must not be negative, got -1"
            ),
            (
                #"{"message": "m", "files": {"x": {"size": 1, "digest": "d", "algorithm": "md5", "visibility": "public"}}}"#,
                .badAlgorithm, #"files["x"]"#
            ),
            (
                #"{"message": "m", "files": {"x": {"size": 1, "digest": "abc", "algorithm": "sha512", "visibility": "public"}}}"#,
                .badDigest, #"files["x"]"#
            ),
            (
                #"{"message": "m", "files": {"x": {"size": 1, "digest": 7, "algorithm": "sha512", "visibility": "public"}}}"#,
                .badRequest, #"files["x"].digest must be a string"#
            )
        ] as [(String, APIErrorName, String)])
    func refusedBatches(_ body: String, _ name: APIErrorName, _ message: String) throws {
        let document = try JSONParser.parse(body)
        do {
            _ = try UploadBatchRequest(document)
            Issue.record("accepted: \(body)")
        } catch {
            #expect(error.status == .badRequest)
            #expect(error.name == name, "\(body)")
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test func aVisibilityOtherThanPublicOrInternalIsRefused() throws {
        // tooltool's own names: `pvt` is `internal`.
        let pvt = try Self.batch(
            #"{"x": {"size": 1, "digest": "\#(Self.digest)", "algorithm": "sha512", "visibility": "pvt"}}"#)
        #expect(try UploadBatchRequest(pvt).visibilities == [.internal])
        let document = try Self.batch(
            #"{"x": {"size": 1, "digest": "\#(Self.digest)", "algorithm": "sha512", "visibility": "secret"}}"#)
        #expect(throws: APIFailure.self) { try UploadBatchRequest(document) }
        do { _ = try UploadBatchRequest(document) } catch {
            #expect(error.name == .badVisibility)
            #expect(error.description == #"files["x"].visibility must be public or internal, got "secret""#)
        }
    }
}

/// The `Authorization: Bearer` parser and the token cache's key, in process.
@Suite struct BearerTokenTests {
    @Test func theUsualFormIsReadByTheByteLevelPathInAnyCaseOfBearer() {
        let token = String(repeating: "a1", count: 32)
        #expect(Authenticator.plainBearerToken("Bearer \(token)") == token)
        #expect(Authenticator.plainBearerToken("bEaReR \(token)") == token)
        #expect(Authenticator.plainBearerToken("Bearer x") == "x")
    }

    @Test func anythingElseIsLeftToTheGeneralParser() throws {
        #expect(Authenticator.plainBearerToken("Bearer") == nil)
        #expect(Authenticator.plainBearerToken("Bearer ") == nil)
        #expect(Authenticator.plainBearerToken("Bearer  two-spaces") == nil)
        #expect(Authenticator.plainBearerToken("Basic dXNlcjpwYXNz") == nil)
        #expect(Authenticator.plainBearerToken("Bearerx token") == nil)
        #expect(Authenticator.plainBearerToken("Bearer tok en") == nil)
        #expect(Authenticator.plainBearerToken("Bearer tökén") == nil)
        // The general parser: extra spaces trimmed, other schemes refused, an empty token refused.
        #expect(try Authenticator.bearerToken("bearer   spaced  ").get() == "spaced")
        #expect(throws: Authenticator.HeaderProblem.self) { try Authenticator.bearerToken("Basic abc").get() }
        #expect(throws: Authenticator.HeaderProblem.self) { try Authenticator.bearerToken("Bearer    ").get() }
    }

    @Test func tokenKeysAreEqualExactlyWhenTheirHashesAre() {
        let a = Crypto.sha256("token-a"), b = Crypto.sha256("token-b")
        var flipped = a
        flipped[31] ^= 1
        #expect(TokenKey(a) == TokenKey(Crypto.sha256("token-a")))
        #expect(TokenKey(a) != TokenKey(b))
        #expect(TokenKey(a) != TokenKey(flipped))
        let cache: [TokenKey: Int] = [TokenKey(a): 1, TokenKey(b): 2]
        #expect(cache[TokenKey(Crypto.sha256("token-b"))] == 2)
        #expect(cache[TokenKey(flipped)] == nil)
    }
}
