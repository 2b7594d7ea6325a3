import Foundation
import Shared
import TestSupport
import Testing

/// A temp store with tokens made by the real `token create` command and a real `tooltool-server serve` on it.
///
/// Each test makes its own (Swift Testing runs tests in parallel); the server stops when the harness is released.
final class ServerHarness {
    /// Owns the store root; removed with the harness.
    let directory: TemporaryDirectory
    /// The running server.
    let server: ServerProcess
    /// Tokens by user name, as `token create` printed them.
    let tokens: [String: String]

    /// The store root.
    var root: String { directory.path }
    /// The server's port.
    var port: Int { server.port }

    /// Creates one token per entry of `tokens` (user name to permissions), then starts `serve` with `arguments`.
    init(tokens: [String: [Permission]] = [:], arguments: [String] = [], prefix: String = "srv") throws {
        directory = TemporaryDirectory(prefix: prefix)
        try TestIndex.register(root: directory.path)
        try TestStore.register(root: directory.path)
        var made: [String: String] = [:]
        for (user, permissions) in tokens {
            made[user] = try Self.createToken(root: directory.path, user: user, permissions: permissions)
        }
        self.tokens = made
        server = try ServerProcess(root: directory.path, arguments: arguments)
    }

    /// Runs `tooltool-server token create` and returns the token it printed.
    static func createToken(root: String, user: String, permissions: [Permission]) throws -> String {
        try ServerCommandLine.createToken(root: root, user: user, permissions: permissions)
    }

    /// Runs `tooltool-server` with `arguments` (the root is not added).
    static func command(_ arguments: [String], timeout: TimeInterval = 60) throws -> ProcessResult {
        try ServerCommandLine.run(arguments, timeout: timeout)
    }

    /// One request on a fresh connection; `token` (a user name in `tokens`, or a raw token with `rawToken`) adds
    /// `Authorization: Bearer`.
    func request(
        _ method: String, _ target: String, user: String? = nil, rawToken: String? = nil,
        headers: [(String, String)] = [], body: [UInt8] = []
    ) throws -> RawHTTPResponse {
        let client = try RawHTTPClient(port: port)
        return try client.request(
            method, target, headers: authorization(user: user, rawToken: rawToken) + headers, body: body)
    }

    /// The `Authorization` header for a user's token (or a raw token), or none.
    func authorization(user: String? = nil, rawToken: String? = nil) -> [(String, String)] {
        if let rawToken { return [("Authorization", "Bearer \(rawToken)")] }
        guard let user else { return [] }
        guard let token = tokens[user] else {
            Issue.record("no token for user \(user)")
            return []
        }
        return [("Authorization", "Bearer \(token)")]
    }

    /// `PUT /sha512/<digest of bytes>[?visibility=...]` with `bytes` as the body.
    func put(
        _ bytes: [UInt8], digest: Digest? = nil, visibility: String? = nil, user: String?,
        headers: [(String, String)] = []
    ) throws -> RawHTTPResponse {
        let digest = digest ?? Fixtures.digest(bytes)
        let query = visibility.map { "?visibility=\($0)" } ?? ""
        return try request("PUT", "/sha512/\(digest.hex)\(query)", user: user, headers: headers, body: bytes)
    }

    /// What the store holds (its folders, or its prefix in the bucket with `TOOLTOOL_TEST_STORE=s3`).
    var stored: StoredBlobs { TestStore.contents(root: root) }

    /// Drops `bytes` into the store by hand (as an admin copying files would); returns the digest.
    @discardableResult
    func storeByHand(_ bytes: [UInt8], _ visibility: Visibility) throws -> Digest {
        try stored.put(bytes, visibility)
    }

    /// Uploads in progress or left behind (temp files, or multipart uploads in the bucket).
    func uploadsInProgress() -> [String] { stored.uploadsInProgress() }

    /// True when a file exists at `path`.
    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
}

/// Expects the shared JSON error body with `status`, `name` and `Content-Type: application/json` exactly.
func expectError(
    _ response: RawHTTPResponse, _ status: Int, _ name: APIErrorName,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        response.status == status, "status line: \(response.statusLine), body: \(response.text)",
        sourceLocation: sourceLocation)
    #expect(response.header("Content-Type") == "application/json", sourceLocation: sourceLocation)
    #expect(response.errorName == name, "body: \(response.text)", sourceLocation: sourceLocation)
    #expect(!(response.errorDescription ?? "").isEmpty, "body: \(response.text)", sourceLocation: sourceLocation)
}
