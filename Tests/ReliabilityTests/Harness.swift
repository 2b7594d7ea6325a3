import Foundation
import Shared
import TestSupport
import Testing

/// A temp store with tokens made by the real `token create` command and a real `tooltool-server serve` on it.
///
/// The store root can be supplied (a tmpfs, a root reused after a crash); `restart` kills nothing, it starts a new
/// server on the same root once the old one is gone.
final class Store: @unchecked Sendable {
    // @unchecked Sendable: threads of a test only read it; `server` changes only in `restart`, which a test calls
    // when no other thread is using the store.
    /// Owns the store root when the harness made it.
    private let owned: TemporaryDirectory?
    /// The store root.
    let root: String
    /// Tokens by user name, as `token create` printed them.
    private(set) var tokens: [String: String] = [:]
    /// The running server (replaced by `restart`).
    private(set) var server: ServerProcess
    private let arguments: [String]
    private let environment: [String: String]
    private let launcher: [String]

    /// The server's port.
    var port: Int { server.port }

    /// Creates one token per entry of `tokens`, then starts `serve` with `arguments` on `root` (a new temp folder
    /// when nil), with `environment` added and through `launcher` (see `ServerProcess`). With `anyBackend`, the
    /// index and blob store are the ones `TOOLTOOL_TEST_INDEX` and `TOOLTOOL_TEST_STORE` choose (see `TestIndex`,
    /// `TestStore`); without, the root's own SQLite file and folders, for tests of the disk store itself.
    init(
        root: String? = nil, tokens: [String: [Permission]] = [:], arguments: [String] = [], prefix: String = "rel",
        environment: [String: String] = [:], launcher: [String] = [], anyBackend: Bool = false
    ) throws {
        if let root {
            owned = nil
            self.root = root
        } else {
            let directory = TemporaryDirectory(prefix: prefix)
            owned = directory
            self.root = directory.path
        }
        if anyBackend {
            try TestIndex.register(root: self.root)
            try TestStore.register(root: self.root)
        }
        var made: [String: String] = [:]
        for (user, permissions) in tokens.sorted(by: { $0.key < $1.key }) {
            made[user] = try Self.createToken(root: self.root, user: user, permissions: permissions)
        }
        self.tokens = made
        self.arguments = arguments
        self.environment = environment
        self.launcher = launcher
        server = try ServerProcess(root: self.root, arguments: arguments, environment: environment, launcher: launcher)
    }

    /// Starts a new server on the same root (the old one must have exited).
    func restart() throws {
        server.stop()
        server = try ServerProcess(root: root, arguments: arguments, environment: environment, launcher: launcher)
    }

    /// Runs `tooltool-server token create` and returns the token it printed.
    static func createToken(root: String, user: String, permissions: [Permission]) throws -> String {
        try ServerCommandLine.createToken(root: root, user: user, permissions: permissions)
    }

    /// Runs `tooltool-server ARGUMENTS --root ROOT`.
    func command(_ arguments: [String], timeout: TimeInterval = 60) throws -> ProcessResult {
        try ServerCommandLine.run(arguments + ["--root", root], timeout: timeout)
    }

    /// One request on a fresh connection, with `Authorization: Bearer` for `user`'s token when given.
    func request(
        _ method: String, _ target: String, user: String? = nil, headers: [(String, String)] = [],
        body: [UInt8] = []
    ) throws -> RawHTTPResponse {
        let client = try RawHTTPClient(port: port)
        return try client.request(method, target, headers: authorization(user) + headers, body: body)
    }

    /// The `Authorization` header for a user's token, or none.
    func authorization(_ user: String?) -> [(String, String)] {
        guard let user, let token = tokens[user] else { return [] }
        return [("Authorization", "Bearer \(token)")]
    }

    /// `PUT /sha512/<digest of bytes>?visibility=...`.
    func put(_ bytes: [UInt8], visibility: Visibility = .public, user: String?) throws -> RawHTTPResponse {
        try request(
            "PUT", "/sha512/\(Fixtures.digest(bytes).hex)?visibility=\(visibility.rawValue)", user: user, body: bytes)
    }

    /// `PUT` of `bytes` whose answer may come before the whole body is sent (a refusal mid-body, then a close): a
    /// send cut short by that close is not an error, the answer is read all the same.
    func putAllowingAnEarlyAnswer(
        _ bytes: [UInt8], visibility: Visibility = .public, user: String?
    ) throws -> RawHTTPResponse {
        let client = try RawHTTPClient(port: port, timeout: 30)
        var head =
            "PUT /sha512/\(Fixtures.digest(bytes).hex)?visibility=\(visibility.rawValue) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in authorization(user) { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(bytes.count)\r\n\r\n"
        _ = client.send(Array(head.utf8) + bytes)
        return try client.readResponse()
    }

    /// What the store holds (its folders, or its prefix in the bucket; see `init`'s `anyBackend`).
    var stored: StoredBlobs { TestStore.contents(root: root) }

    /// Where a blob of `visibility` lives on disk (disk-store tests only).
    func blobPath(_ digest: Digest, _ visibility: Visibility) -> String {
        stored.location(digest, visibility)
    }

    /// Uploads in progress or left behind: temp files (the heartbeat probe's excluded), or multipart uploads.
    func temporaryFiles() -> [String] { stored.uploadsInProgress() }

    /// True when a normal GET of `bytes` (stored public) answers 200 with exactly those bytes.
    func serves(_ bytes: [UInt8]) -> Bool {
        guard let response = try? request("GET", "/sha512/\(Fixtures.digest(bytes).hex)") else { return false }
        return response.status == 200 && response.body == bytes
    }
}

/// Expects the shared JSON error body with `status` and `name`.
func expectError(
    _ response: RawHTTPResponse, _ status: Int, _ name: APIErrorName, _ comment: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        response.status == status, "\(comment) status line: \(response.statusLine), body: \(response.text)",
        sourceLocation: sourceLocation)
    #expect(response.isJSONError, "\(comment) body: \(response.text)", sourceLocation: sourceLocation)
    #expect(response.errorName == name, "\(comment) body: \(response.text)", sourceLocation: sourceLocation)
}

/// True when a file exists at `path`.
func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

/// Runs `body` for each index on its own thread and returns the results in order (every thread is joined).
func inParallel<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    let results = ResultBox<T>(count: count)
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread.detachNewThread {
            results.set(index, body(index))
            group.leave()
        }
    }
    group.wait()
    return results.values
}

/// A set-up step of a test failed.
struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
