import Foundation
import Shared
import TestSupport
import Testing

/// Bad batches, malformed and oversized bodies, wrong methods: each gets its status and the JSON error body.
@Suite struct APIValidationTests {
    @Test func badBatchesAreRefused() throws {
        let harness = try APIHarness()
        let token = try harness.token("alice", "upload.public", "upload.internal")
        let file = APIFile("ok.bin")
        func entry(_ change: (inout [(String, JSONValue)]) -> Void) -> JSONValue {
            var members = file.entry.objectValue!
            change(&members)
            return .object(members)
        }
        func set(_ key: String, _ value: JSONValue) -> JSONValue {
            entry { members in members = members.map { $0.0 == key ? (key, value) : $0 } }
        }
        let cases: [(String, JSONValue, APIErrorName)] = [
            ("empty message", ["message": "", "files": ["ok.bin": file.entry]], .badRequest),
            ("blank message", ["message": "  ", "files": ["ok.bin": file.entry]], .badRequest),
            ("no message", ["files": ["ok.bin": file.entry]], .badRequest),
            ("message type", ["message": 5, "files": ["ok.bin": file.entry]], .badRequest),
            ("no files", ["message": "m", "files": [:]], .badRequest),
            ("files missing", ["message": "m"], .badRequest),
            ("files as list", ["message": "m", "files": [file.entry]], .badRequest),
            ("author", ["message": "m", "author": "mallory", "files": ["ok.bin": file.entry]], .badRequest),
            ("md5", ["message": "m", "files": ["ok.bin": set("algorithm", "md5")]], .badAlgorithm),
            (
                "uppercase digest",
                ["message": "m", "files": ["ok.bin": set("digest", .string(file.digest.hex.uppercased()))]], .badDigest
            ),
            ("short digest", ["message": "m", "files": ["ok.bin": set("digest", "abc")]], .badDigest),
            ("slash", ["message": "m", "files": ["dir/ok.bin": file.entry]], .badFilename),
            ("dot dot", ["message": "m", "files": ["..": file.entry]], .badFilename),
            ("size type", ["message": "m", "files": ["ok.bin": set("size", "1000")]], .badRequest),
            ("size float", ["message": "m", "files": ["ok.bin": set("size", .double(1000.5))]], .badRequest),
            ("negative size", ["message": "m", "files": ["ok.bin": set("size", -1)]], .badRequest),
            ("visibility", ["message": "m", "files": ["ok.bin": set("visibility", "secret")]], .badVisibility),
            (
                "no digest", ["message": "m", "files": ["ok.bin": entry { $0.removeAll { $0.0 == "digest" } }]],
                .badRequest
            ),
            ("entry type", ["message": "m", "files": ["ok.bin": "x"]], .badRequest),
            ("top level list", [["message": "m"]], .badRequest)
        ]
        for (what, body, name) in cases {
            let response = try harness.send("POST", "/upload", token: token, json: body)
            #expect(response.status == 400, "\(what): \(response.status) \(response.text)")
            #expect(harness.errorName(response) == name, "\(what): \(response.text)")
        }
        let listed = try harness.json(try harness.send("GET", "/upload", token: token))
        #expect(listed["result"] == [], "no refused batch may be recorded")
    }

    @Test func conflictsWithStoredFiles() throws {
        let harness = try APIHarness()
        let token = try harness.token("alice", "upload.public", "upload.internal")
        let file = APIFile("stored.bin", size: 321)
        try harness.upload(token: token, message: "first", files: [file])

        let asInternal = file.entry.objectValue!.map { $0.0 == "visibility" ? ("visibility", "internal") : $0 }
        let visibility = try harness.send(
            "POST", "/upload", token: token,
            json: ["message": "m", "files": ["renamed.bin": .object(asInternal)]])
        #expect(visibility.status == 400)
        #expect(harness.errorName(visibility) == .visibilityConflict, "\(visibility.text)")

        var entry = file.entry.objectValue!
        entry = entry.map { $0.0 == "size" ? ("size", 322) : $0 }
        let size = try harness.send(
            "POST", "/upload", token: token,
            json: ["message": "m", "files": ["stored.bin": .object(entry)]])
        #expect(size.status == 400)
        #expect(harness.errorName(size) == .sizeConflict, "\(size.text)")
        #expect(harness.isStored(file.digest, .public) && !harness.isStored(file.digest, .internal))
    }

    @Test func malformedAndOversizedBodies() throws {
        let harness = try APIHarness()
        let token = try harness.token("alice", "upload.public", "manage")
        let deep =
            Array(repeating: UInt8(ascii: "["), count: 100_000) + Array(repeating: UInt8(ascii: "]"), count: 100_000)
        let bodies: [(String, [UInt8])] = [
            ("truncated", Array("{\"message\": \"m\", \"files\": {".utf8)),
            ("not JSON", Array("message=m".utf8)),
            ("trailing data", Array("{\"message\": \"m\"} x".utf8)),
            ("empty", []),
            ("invalid UTF-8", [0x22, 0xff, 0xfe, 0x22]),
            ("deep nesting", deep)
        ]
        for path in ["/upload", "/file/sha512/\(APIFile("x").digest.hex)"] {
            let method = path == "/upload" ? "POST" : "PATCH"
            for (what, body) in bodies {
                let response = try harness.send(
                    method, path, token: token, body: body, headers: [("Content-Type", "application/json")])
                #expect(response.status == 400, "\(method) \(what): \(response.status)")
                #expect(harness.errorName(response) == .badJSON, "\(method) \(what): \(response.text)")
            }
        }

        // Over 1 MiB: 413 from the head alone, and the connection closes without reading the body.
        let client = try RawHTTPClient(port: harness.server.port)
        client.send(
            "POST /upload HTTP/1.1\r\nHost: 127.0.0.1:\(harness.server.port)\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(2 << 20)\r\n\r\n")
        let tooLarge = try client.readResponse()
        #expect(tooLarge.status == 413)
        #expect(harness.errorName(tooLarge) == .contentTooLarge)
        #expect(client.isClosedByPeer())

        // Just under the limit but not a batch: read and refused as JSON, not as size.
        let padded =
            Array("{\"message\": \"m\", \"files\": {}, \"pad\": \"".utf8)
            + Array(repeating: UInt8(ascii: "a"), count: 1_000_000)
            + Array("\"}".utf8)
        let big = try harness.send("POST", "/upload", token: token, body: padded)
        #expect(big.status == 400)
        #expect(harness.errorName(big) == .badRequest)

        // The server is still serving.
        #expect(try harness.send("GET", "/upload", token: token).status == 200)
    }

    @Test func methodsAndPaths() throws {
        let harness = try APIHarness()
        let token = try harness.token("alice", "upload.public", "manage")
        let digest = APIFile("x").digest.hex
        let cases: [(String, String, String)] = [
            ("DELETE", "/upload", "GET, HEAD, POST"),
            ("PUT", "/upload/1", "GET, HEAD"),
            ("POST", "/upload/1/manifest", "GET, HEAD"),
            ("POST", "/file", "GET, HEAD"),
            ("POST", "/upload/complete/sha512/\(digest)", "GET"),
            ("PUT", "/file/sha512/\(digest)", "GET, HEAD, PATCH")
        ]
        for (method, path, allow) in cases {
            let response = try harness.send(method, path, token: token)
            #expect(response.status == 405, "\(method) \(path): \(response.status)")
            #expect(response.header("Allow") == allow, "\(method) \(path)")
            #expect(harness.errorName(response) == .methodNotAllowed)
        }
        for path in ["/upload/abc", "/upload/1/other", "/upload/", "/file/md5/\(digest)", "/files", "/upload/-1"] {
            let response = try harness.send("GET", path, token: token)
            #expect(response.status == 404, "\(path): \(response.status)")
            #expect(harness.errorName(response) == .notFound)
        }
        let badDigest = try harness.send("GET", "/upload/complete/sha512/\(digest.dropLast())", token: token)
        #expect(badDigest.status == 400)
        #expect(harness.errorName(badDigest) == .badDigest)
        let head = try harness.send("HEAD", "/upload", token: token)
        #expect(head.status == 200)
    }
}
