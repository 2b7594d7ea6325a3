import Foundation
import Shared
import TestSupport
import Testing

/// `--index`, `--index-file` and `TOOLTOOL_INDEX`: every command that opens the index finds the same one, and a
/// server refuses an index whose schema is newer than it knows.
@Suite struct IndexOptionTests {
    @Test func indexOptionFileAndEnvironmentAllReachTheSameIndexOutsideTheRoot() throws {
        let store = TemporaryDirectory(prefix: "idx")
        let elsewhere = TemporaryDirectory(prefix: "idx-db")
        let database = elsewhere.file("meta.sqlite")
        let create = try ServerHarness.command([
            "token", "create", "--root", store.path, "--index", database,
            "--user", "alice", "--permission", "upload.internal",
            "--permission", "download.internal"
        ])
        try #require(create.status == 0, "\(create.stderr)")
        let token = create.stdout.trimmingCharacters(in: .newlines)
        #expect(FileManager.default.fileExists(atPath: database))
        #expect(
            !FileManager.default.fileExists(atPath: store.file("tooltool.sqlite")), "the root's default is not used")

        // The location from a file (trailing newline allowed) and from the environment.
        let locationFile = elsewhere.file("index-location")
        try Data((database + "\n").utf8).write(to: URL(fileURLWithPath: locationFile))
        let listed = try ServerHarness.command(["token", "list", "--root", store.path, "--index-file", locationFile])
        #expect(listed.status == 0 && listed.stdout.contains("alice"), "\(listed.stderr)")
        let fromEnvironment = try ProcessRunner.run(
            Binaries.server, ["token", "list", "--root", store.path],
            environment: ["TOOLTOOL_INDEX": database], timeout: 30)
        #expect(fromEnvironment.status == 0 && fromEnvironment.stdout.contains("alice"), "\(fromEnvironment.stderr)")

        let server = try ServerProcess(root: store.path, environment: ["TOOLTOOL_INDEX": database])
        let bytes = Fixtures.randomBytes(1000)
        let put = try RawHTTPClient(port: server.port).request(
            "PUT", "/sha512/\(Fixtures.digest(bytes).hex)", headers: [("Authorization", "Bearer \(token)")], body: bytes
        )
        #expect(put.status == 200, "\(put.text)")
        #expect(!FileManager.default.fileExists(atPath: store.file("tooltool.sqlite")))
        #expect(server.stop() == 0)
    }

    @Test func conflictingOrBadLocationsAreClearErrors() throws {
        let store = TemporaryDirectory(prefix: "idx")
        let both = try ServerHarness.command([
            "token", "list", "--root", store.path, "--index", "a.sqlite",
            "--index-file", "b"
        ])
        #expect(both.status != 0)
        #expect(both.stderr.contains("--index or --index-file"), "\(both.stderr)")
        let missing = try ServerHarness.command([
            "token", "list", "--root", store.path, "--index-file", store.file("nope")
        ])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error: cannot read --index-file"), "\(missing.stderr)")
        let scheme = try ServerHarness.command(["token", "list", "--root", store.path, "--index", "mysql://u:pw@h/db"])
        #expect(scheme.status == 1)
        #expect(scheme.stderr.contains("postgresql://"), "\(scheme.stderr)")
        #expect(!scheme.stderr.contains("pw"), "no password in messages: \(scheme.stderr)")
    }

    @Test func aServerRefusesAnIndexNewerThanItKnows() throws {
        let store = TemporaryDirectory(prefix: "idx")
        let create = try ServerHarness.command([
            "token", "create", "--root", store.path, "--user", "a", "--permission", "manage"
        ])
        try #require(create.status == 0, "\(create.stderr)")
        // `PRAGMA user_version` is the big-endian 32-bit number at offset 60 of the file's header (the token
        // command's close checkpointed the WAL, so the main file is current); no sqlite3 CLI needed.
        let file = try #require(FileHandle(forUpdatingAtPath: store.file("tooltool.sqlite")))
        try file.seek(toOffset: 60)
        try file.write(contentsOf: Data([0, 0, 0, 99]))
        try file.close()

        #expect(throws: ServerProcessError.self) { _ = try ServerProcess(root: store.path) }
        let serve = try ServerHarness.command(["serve", "--root", store.path, "--port", "0"], timeout: 30)
        #expect(serve.status == 1)
        #expect(serve.stderr.contains("schema version 99 is newer than this server's"), "\(serve.stderr)")
        #expect(!serve.stdout.contains("listening"))
        let list = try ServerHarness.command(["token", "list", "--root", store.path])
        #expect(list.status == 1)
        #expect(list.stderr.contains("schema version 99"), "\(list.stderr)")
    }
}
