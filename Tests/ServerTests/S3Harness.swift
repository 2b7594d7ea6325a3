import Foundation
import Shared
import TestSupport
import Testing

/// A store in its own bucket on the shared `moto_server` (authentication on), an index like every harness's, and the
/// flags that point `tooltool-server` at them; `endpoint` may be a fault proxy in front of moto.
struct S3Harness {
    let moto: MotoServer
    let bucket: String
    let endpoint: String
    let directory = TemporaryDirectory(prefix: "s3")
    static let partSize = 5 << 20

    init(endpoint: ((MotoServer) throws -> String)? = nil) throws {
        moto = try MotoServer.shared.get()
        bucket = try moto.makeBucket()
        self.endpoint = try endpoint?(moto) ?? moto.endpoint
        try TestIndex.register(root: directory.path)
    }

    /// The store flags every command takes (5 MiB parts, S3's smallest, so tests reach multipart cheaply).
    var storeFlags: [String] {
        [
            "--blob-store", "s3://\(bucket)/tt", "--s3-endpoint", endpoint, "--s3-path-style", "--s3-part-size",
            String(Self.partSize)
        ]
    }

    func serve(_ extra: [String] = []) throws -> ServerProcess {
        let server = try ServerProcess(
            root: directory.path, arguments: storeFlags + extra, environment: moto.environment)
        servers.add(server)
        return server
    }

    /// The servers `serve` started, so `token` can wait until they know a new token.
    private let servers = StartedServers()

    /// `token create` for `user` with `permissions`; the token. On PostgreSQL, also waits (bounded) until every
    /// running server started by `serve` accepts it: they learn of it by NOTIFY, later than a test's next request
    /// on a loaded machine.
    func token(_ user: String, _ permissions: [Permission]) throws -> String {
        let result = try command(
            ["token", "create", "--user", user] + permissions.flatMap { ["--permission", $0.rawValue] })
        try #require(result.status == 0, "token create failed: \(result.stderr)")
        let token = result.stdout.trimmingCharacters(in: .newlines)
        if TestIndex.usesPostgres {
            for server in servers.running {
                let known = eventually(timeout: 10) {
                    (try? Self.request(server, "GET", "/auth/whoami", token: token).status) == 200
                }
                try #require(known, "server \(server.port) did not learn of the new token within 10 s")
            }
        }
        return token
    }

    /// `tooltool-server ARGUMENTS --root ROOT` with the store flags and the index.
    func command(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(
            Binaries.server, TestIndex.withIndex(arguments + ["--root", directory.path] + storeFlags),
            environment: moto.environment, timeout: 120)
    }

    static func key(_ digest: Digest, _ visibility: Visibility) -> String {
        "tt/\(visibility.folderName)/sha512/\(digest.hex)"
    }

    /// One request on a fresh connection, with a bearer token when given.
    static func request(
        _ server: ServerProcess, _ method: String, _ target: String, token: String? = nil,
        headers: [(String, String)] = [], body: [UInt8] = []
    ) throws -> RawHTTPResponse {
        let auth = token.map { [("Authorization", "Bearer \($0)")] } ?? []
        return try RawHTTPClient(port: server.port, timeout: 90).request(
            method, target, headers: auth + headers, body: body)
    }
}

/// The servers a harness started (tests run in parallel, so behind a lock).
private final class StartedServers: @unchecked Sendable {
    // @unchecked Sendable: `servers` is only touched while `lock` is held.
    private let lock = NSLock()
    private var servers: [ServerProcess] = []

    func add(_ server: ServerProcess) { lock.withLock { servers.append(server) } }
    /// Those still running.
    var running: [ServerProcess] { lock.withLock { servers.filter(\.isRunning) } }
}
