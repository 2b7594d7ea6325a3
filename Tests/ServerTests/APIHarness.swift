import Foundation
import Shared
import TestSupport
import Testing

/// A real `tooltool-server serve` on a temp root, with helpers for tokens, JSON requests and uploads through the
/// batch API. Each test makes its own, so tests share nothing and may run in parallel.
final class APIHarness {
    /// The store root (removed when the harness is released).
    let directory: TemporaryDirectory
    /// The running server.
    let server: ServerProcess

    /// Starts a server with extra `serve` arguments.
    init(arguments: [String] = []) throws {
        directory = TemporaryDirectory(prefix: "api")
        try TestIndex.register(root: directory.path)
        try TestStore.register(root: directory.path)
        server = try ServerProcess(root: directory.path, arguments: arguments)
    }

    /// The store root.
    var root: String { directory.path }
    /// What the store holds (its folders, or its prefix in the bucket with `TOOLTOOL_TEST_STORE=s3`).
    var stored: StoredBlobs { TestStore.contents(root: root) }

    /// Creates a token for `user` with `permissions` through `tooltool-server token create`.
    func token(_ user: String, _ permissions: String...) throws -> String {
        let arguments =
            ["token", "create", "--root", root, "--user", user] + permissions.flatMap { ["--permission", $0] }
        let result = try ServerCommandLine.run(arguments)
        try #require(result.status == 0, "token create failed: \(result.stderr)")
        let token = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if TestIndex.usesPostgres {
            // A running server on PostgreSQL learns of a new token by NOTIFY (or its 0.5 s poll): within a second by
            // contract, but later than this test's next request on a loaded machine. Wait for it, bounded.
            let known = eventually(timeout: 10) {
                (try? send("GET", "/auth/whoami", token: token).status) == 200
            }
            try #require(known, "the server did not learn of the new token within 10 s")
        }
        return token
    }

    /// Revokes every token of `user` through `token list` and `token revoke`; with `token` (one of them) given, on
    /// PostgreSQL also waits (bounded) until the running server refuses it, as `token(_:_:)` waits for a new one.
    func revokeTokens(of user: String, token: String? = nil) throws {
        let list = try ServerCommandLine.run(["token", "list", "--root", root])
        let ids = list.stdout.split(separator: "\n").dropFirst().compactMap { line -> String? in
            let fields = line.split(separator: "\t")
            return fields.count > 1 && fields[1] == user ? String(fields[0]) : nil
        }
        try #require(!ids.isEmpty, "no token of \(user) in: \(list.stdout)")
        for id in ids {
            let result = try ServerCommandLine.run(["token", "revoke", "--root", root, id])
            try #require(result.status == 0, "token revoke failed: \(result.stderr)")
        }
        if TestIndex.usesPostgres, let token {
            let refused = eventually(timeout: 10) { (try? send("GET", "/auth/whoami", token: token).status) == 401 }
            try #require(refused, "the server did not learn of the revocation within 10 s")
        }
    }

    /// Sends one request on a new connection with `Host: 127.0.0.1:PORT` (as curl and tooltool.py send it).
    func send(
        _ method: String, _ target: String, token: String? = nil, json: JSONValue? = nil, body: [UInt8]? = nil,
        headers: [(String, String)] = [], host: String? = nil
    ) throws -> RawHTTPResponse {
        let payload = body ?? json.map { Array(JSONWriter.write($0).utf8) } ?? []
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(server.port)")\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if json != nil { head += "Content-Type: application/json\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !payload.isEmpty || ["POST", "PUT", "PATCH"].contains(method) {
            head += "Content-Length: \(payload.count)\r\n"
        }
        let client = try RawHTTPClient(port: server.port)
        client.send(Array((head + "\r\n").utf8) + payload)
        return try client.readResponse(isHead: method == "HEAD")
    }

    /// The parsed JSON body of `response`.
    func json(_ response: RawHTTPResponse) throws -> JSONValue {
        try JSONParser.parse(response.body)
    }

    /// The error name of an error response, checking the shared error shape and its exact Content-Type.
    func errorName(_ response: RawHTTPResponse) -> APIErrorName? {
        guard response.header("Content-Type") == "application/json" else { return nil }
        return APIError(body: response.body)?.knownName
    }

    /// A batch body as tooltool.py builds it.
    static func batch(_ message: String, _ files: [APIFile]) -> JSONValue {
        ["message": .string(message), "files": .object(files.map { ($0.name, $0.entry) })]
    }

    /// POSTs a batch and returns the `result` (requires 200).
    func createBatch(token: String, message: String, files: [APIFile]) throws -> JSONValue {
        let response = try send("POST", "/upload", token: token, json: Self.batch(message, files))
        try #require(response.status == 200, "POST /upload: \(response.status) \(response.text)")
        return try #require(try json(response)["result"])
    }

    /// PUTs `bytes` to an absolute `put_url` of this server, without an Authorization header.
    func put(url: String, _ bytes: [UInt8]) throws -> RawHTTPResponse {
        try send("PUT", Self.target(of: url), body: bytes, headers: [("Content-Type", "application/octet-stream")])
    }

    /// The path and query of an absolute URL.
    static func target(of url: String) throws -> String {
        let components = try #require(URLComponents(string: url))
        return components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
    }

    /// The whole tooltool flow for `files`: batch, PUT to every `put_url`, complete. Returns the batch.
    @discardableResult
    func upload(token: String, message: String, files: [APIFile]) throws -> JSONValue {
        let batch = try createBatch(token: token, message: message, files: files)
        for file in files {
            guard let url = batch["files"]?[file.name]?["put_url"]?.stringValue else { continue }
            let put = try self.put(url: url, file.bytes)
            try #require(put.status == 200, "PUT \(file.name): \(put.status) \(put.text)")
            let complete = try send("GET", "/upload/complete/sha512/\(file.digest.hex)", token: token)
            try #require(complete.status == 202, "complete \(file.name): \(complete.status) \(complete.text)")
        }
        return batch
    }

    /// True when the store holds the blob under `visibility`.
    func isStored(_ digest: Digest, _ visibility: Visibility) -> Bool {
        stored.contains(digest, visibility)
    }
}

/// A file for a test batch: random content of a given size.
struct APIFile {
    /// Its name in the batch.
    let name: String
    /// Its content.
    let bytes: [UInt8]
    /// Declared visibility.
    let visibility: Visibility

    /// `size` random bytes called `name`.
    init(_ name: String, size: Int = 1000, _ visibility: Visibility = .public) {
        self.name = name
        self.bytes = Fixtures.randomBytes(size)
        self.visibility = visibility
    }

    /// SHA-512 of the content.
    var digest: Digest { Fixtures.digest(bytes) }

    /// The batch entry tooltool.py sends for it.
    var entry: JSONValue {
        [
            "size": .int(Int64(bytes.count)), "digest": .string(digest.hex), "algorithm": "sha512",
            "visibility": .string(visibility.rawValue)
        ]
    }
}
