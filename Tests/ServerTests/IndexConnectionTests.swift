import Foundation
import Shared
import TestSupport
import Testing

/// Connection settings of a PostgreSQL index, against a real cluster whose TCP logins need a scram-sha-256 password:
/// the password reaches libpq from `--index`, `TOOLTOOL_INDEX` or `--index-file` and never shows in a process
/// list, a message or a log; a wrong password and bad `sslmode`s fail at once with one clear line.
///
/// Each test starts its own cluster (the shared one trusts every login), so both CI runs (SQLite and
/// `TOOLTOOL_TEST_INDEX=postgres`) run them the same way.
@Suite struct IndexConnectionTests {
    /// Part of every password here: a text that appears nowhere else, so finding it anywhere is a leak.
    static let marker = "Pw7fK3q"

    /// A cluster with password logins, a role `tooltool` owning database `tooltool`, and URIs to reach it.
    final class PasswordCluster {
        let cluster: PostgresCluster
        /// The role's password: '/', '@' and ':' need percent-encoding in a URI.
        let password = "\(IndexConnectionTests.marker)/@:x"
        let encodedPassword = "\(IndexConnectionTests.marker)%2F%40%3Ax"

        init() throws {
            cluster = try PostgresCluster(password: "super-\(IndexConnectionTests.marker)")
            try cluster.psql("CREATE ROLE tooltool LOGIN PASSWORD '\(password)'")
            try cluster.psql("CREATE DATABASE tooltool OWNER tooltool")
        }

        /// `postgresql://tooltool:PASSWORD@127.0.0.1:PORT/tooltool` plus `query`.
        func uri(password: String? = nil, query: String = "") -> String {
            "postgresql://tooltool:\(password ?? encodedPassword)@127.0.0.1:\(cluster.port)/tooltool\(query)"
        }
    }

    /// `tooltool-server ARGS` with `environment` added.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.run(Binaries.server, arguments, environment: environment, timeout: 60)
    }

    /// The command line of a running process, its NUL separators shown as spaces.
    static func commandLine(of pid: Int32) -> String {
        let bytes = Fixtures.read("/proc/\(pid)/cmdline") ?? []
        return String(decoding: bytes.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    @Test func aPasswordFromTheOptionTheEnvironmentOrAFileOpensTheIndexAndIsNeverShown() throws {
        let postgres = try PasswordCluster()
        let store = TemporaryDirectory(prefix: "pgpw")
        let uri = postgres.uri()
        let created = try Self.run([
            "token", "create", "--root", store.path, "--index", uri, "--user", "alice",
            "--permission", "upload.public", "--permission", "download.internal"
        ])
        try #require(created.status == 0, "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let fromEnvironment = try Self.run(
            ["token", "list", "--root", store.path], environment: ["TOOLTOOL_INDEX": uri])
        #expect(fromEnvironment.status == 0 && fromEnvironment.stdout.contains("alice"), "\(fromEnvironment.stderr)")
        let locationFile = store.file("index-location")
        try Data((uri + "\n").utf8).write(to: URL(fileURLWithPath: locationFile))
        chmod(locationFile, 0o600)
        let fromFile = try Self.run(["token", "list", "--root", store.path, "--index-file", locationFile])
        #expect(fromFile.status == 0 && fromFile.stdout.contains("alice"), "\(fromFile.stderr)")
        // The same settings in libpq's own `?param=` form, and `sslmode=disable` (this cluster has no TLS).
        let keywords =
            "postgresql://127.0.0.1:\(postgres.cluster.port)/tooltool?user=tooltool&password=\(postgres.encodedPassword)&sslmode=disable"
        let fromKeywords = try Self.run(["token", "list", "--root", store.path, "--index", keywords])
        #expect(fromKeywords.status == 0 && fromKeywords.stdout.contains("alice"), "\(fromKeywords.stderr)")
        let disabled = try Self.run([
            "token", "list", "--root", store.path, "--index", postgres.uri(query: "?sslmode=disable")
        ])
        #expect(disabled.status == 0 && disabled.stdout.contains("alice"), "\(disabled.stderr)")

        // Two servers, told through the environment and through the file: both serve, and neither's process list
        // entry nor log holds the password.
        let servers = [
            try ServerProcess(root: store.path, environment: ["TOOLTOOL_INDEX": uri], logName: "env.log"),
            try ServerProcess(root: store.path, arguments: ["--index-file", locationFile], logName: "file.log")
        ]
        let bytes = Fixtures.randomBytes(2000)
        let digest = Fixtures.digest(bytes)
        for (number, server) in servers.enumerated() {
            let commandLine = Self.commandLine(of: server.pid)
            #expect(commandLine.contains("serve"), "read the server's own command line: \(commandLine)")
            #expect(!commandLine.contains(Self.marker), "no password in /proc/\(server.pid)/cmdline: \(commandLine)")
            if number == 0 {
                let put = try RawHTTPClient(port: server.port).request(
                    "PUT", "/sha512/\(digest.hex)?visibility=public", headers: [("Authorization", "Bearer \(token)")],
                    body: bytes)
                #expect(put.status == 200, "\(put.text)")
            }
            let file = try RawHTTPClient(port: server.port).request(
                "GET", "/file/sha512/\(digest.hex)", headers: [("Authorization", "Bearer \(token)")])
            #expect(file.status == 200 && file.text.contains("\"has_instances\":true"), "\(server.port): \(file.text)")
            #expect(try RawHTTPClient(port: server.port).request("GET", "/__heartbeat__").status == 200)
        }
        for server in servers {
            #expect(server.stop() == 0)
            #expect(!server.stderr().contains(Self.marker), "no password in the log: \(server.stderr())")
        }
        for result in [created, fromEnvironment, fromFile, fromKeywords, disabled] {
            #expect(!(result.stdout + result.stderr).contains(Self.marker))
        }
    }

    @Test func aWrongPasswordIsOneClearLineAndANonZeroExitNeverEchoingIt() throws {
        let postgres = try PasswordCluster()
        let store = TemporaryDirectory(prefix: "pgpw")
        let wrong = postgres.uri(password: "wrong-\(Self.marker)")
        let locationFile = store.file("index-location")
        try Data(wrong.utf8).write(to: URL(fileURLWithPath: locationFile))

        let runs = [
            ("token --index", try Self.run(["token", "list", "--root", store.path, "--index", wrong])),
            (
                "token --index-file",
                try Self.run([
                    "token", "create", "--root", store.path, "--index-file", locationFile,
                    "--user", "a", "--permission", "manage"
                ])
            ),
            (
                "serve TOOLTOOL_INDEX",
                try Self.run(
                    ["serve", "--root", store.path, "--port", "0"],
                    environment: ["TOOLTOOL_INDEX": wrong])
            ),
            ("serve --index", try Self.run(["serve", "--root", store.path, "--port", "0", "--index", wrong]))
        ]
        for (name, result) in runs {
            #expect(result.status == 1, "\(name): exit \(result.status)")
            #expect(!result.stdout.contains("listening"), "\(name)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(name): one line, got: \(result.stderr)")
            #expect(
                result.stderr.hasPrefix("error: cannot open the index postgresql://tooltool:***@127.0.0.1:"),
                "\(name): \(result.stderr)")
            #expect(
                result.stderr.contains("password authentication failed for user \"tooltool\""),
                "\(name): \(result.stderr)")
            #expect(!(result.stdout + result.stderr).contains(Self.marker), "\(name) never echoes the password")
        }
        // No password at all against a host line that wants one: libpq says so.
        let none = try Self.run([
            "token", "list", "--root", store.path,
            "--index", "postgresql://tooltool@127.0.0.1:\(postgres.cluster.port)/tooltool"
        ])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no password supplied"), "\(none.stderr)")
        // Nothing listening: libpq's two-line "Connection refused / Is the server running...?" comes out as one.
        let closedPort = try FreePort.pick()
        let refused = try Self.run([
            "serve", "--root", store.path, "--port", "0",
            "--index", "postgresql://tooltool:\(postgres.encodedPassword)@127.0.0.1:\(closedPort)/tooltool"
        ])
        #expect(refused.status == 1)
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(
            refused.stderr.contains("port \(closedPort) failed: Connection refused Is the server running"),
            "\(refused.stderr)")
        #expect(!refused.stderr.contains(Self.marker))
    }

    @Test func sslModesAreHonouredAndABadOneIsAClearError() throws {
        let postgres = try PasswordCluster()
        let store = TemporaryDirectory(prefix: "pgssl")
        // `require` against a cluster without TLS: refused before any password is sent, naming the host.
        let require = try Self.run([
            "token", "list", "--root", store.path, "--index", postgres.uri(query: "?sslmode=require")
        ])
        #expect(require.status == 1)
        #expect(require.stderr.split(separator: "\n").count == 1, "\(require.stderr)")
        #expect(
            require.stderr.contains("connection to server at \"127.0.0.1\", port \(postgres.cluster.port) failed"),
            "\(require.stderr)")
        #expect(require.stderr.contains("server does not support SSL, but SSL was required"), "\(require.stderr)")
        let serve = try Self.run(
            ["serve", "--root", store.path, "--port", "0"],
            environment: ["TOOLTOOL_INDEX": postgres.uri(query: "?sslmode=verify-full")])
        #expect(serve.status == 1 && serve.stderr.contains("SSL"), "\(serve.stderr)")
        #expect(!serve.stdout.contains("listening"))

        let unknown = try Self.run([
            "token", "list", "--root", store.path, "--index", postgres.uri(query: "?sslmode=sometimes")
        ])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("invalid sslmode value: \"sometimes\""), "\(unknown.stderr)")

        // `prefer` (libpq's default) falls back to plain TCP here; `disable` never tries TLS.
        for mode in ["prefer", "disable", "allow"] {
            let result = try Self.run([
                "token", "list", "--root", store.path, "--index", postgres.uri(query: "?sslmode=\(mode)")
            ])
            #expect(result.status == 0, "sslmode=\(mode): \(result.stderr)")
        }
        for result in [require, serve, unknown] {
            #expect(
                !(result.stdout + result.stderr).contains(Self.marker), "never echoes the password: \(result.stderr)")
        }
    }
}
