import Foundation
import Shared
import TestSupport
import Testing

/// The admin commands (`token`, `visibility`, `fsck`) and command-line errors, run as the built binary.
@Suite struct CommandTests {
    @Test func tokenCreatePrintsOnlyTheTokenAndListNeverShowsIt() throws {
        let store = TemporaryDirectory(prefix: "cmd")
        let create = try ServerHarness.command([
            "token", "create", "--root", store.path, "--user", "alice",
            "--permission", "upload.internal", "--permission", "download.internal"
        ])
        #expect(create.status == 0, "\(create.stderr)")
        let token = create.stdout.trimmingCharacters(in: .newlines)
        #expect(
            create.stdout == token + "\n", "stdout is the token alone on one line: \(create.stdout.debugDescription)")
        #expect(token.count >= 43, "at least 256 bits")
        #expect(token.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        let second = try ServerHarness.command([
            "token", "create", "--root", store.path, "--user", "bob", "--permission", "manage"
        ])
        let secondToken = second.stdout.trimmingCharacters(in: .newlines)
        #expect(secondToken != token)

        let list = try ServerHarness.command(["token", "list", "--root", store.path])
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false)
        }
        #expect(lines.count == 3, "\(list.stdout)")
        let alice = try #require(lines.first { $0.count > 1 && $0[1] == "alice" })
        #expect(alice[2] == "download.internal,upload.internal" || alice[2] == "upload.internal,download.internal")
        #expect(alice.contains("-"), "never used yet: \(alice)")
        #expect(lines.contains { $0.count > 1 && $0[1] == "bob" && $0[2] == "manage" })
        #expect(!list.stdout.contains(token) && !list.stdout.contains(secondToken))
        #expect(!list.stderr.contains(token))
        // Nor is the token in the database in clear.
        let database = try Data(contentsOf: URL(fileURLWithPath: store.file("tooltool.sqlite")))
        #expect(database.range(of: Data(token.utf8)) == nil)
    }

    @Test func tokenRevokeMarksItRevokedAndRejectsUnknownIDs() throws {
        let store = TemporaryDirectory(prefix: "cmd")
        _ = try ServerHarness.createToken(root: store.path, user: "carol", permissions: [.downloadPublic])
        let revoke = try ServerHarness.command(["token", "revoke", "1", "--root", store.path])
        #expect(revoke.status == 0, "\(revoke.stderr)")
        let list = try ServerHarness.command(["token", "list", "--root", store.path])
        let row = try #require(list.stdout.split(separator: "\n").dropFirst().first?.split(separator: "\t"))
        #expect(row.last != "-", "the REVOKED column has a time: \(row)")

        let unknown = try ServerHarness.command(["token", "revoke", "99", "--root", store.path])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.hasPrefix("error:"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("99"))
    }

    @Test func visibilityCommandMovesTheBlobAndGetFollows() throws {
        let harness = try ServerHarness(tokens: ["up": [.uploadInternal]])
        let bytes = Fixtures.randomBytes(10_000)
        let digest = Fixtures.digest(bytes)
        #expect(try harness.put(bytes, user: "up").status == 200)
        #expect(try harness.request("GET", "/sha512/\(digest.hex)").status == 401)

        let toPublic = try ServerHarness.command(["visibility", digest.hex, "public", "--root", harness.root])
        #expect(toPublic.status == 0, "\(toPublic.stderr)")
        #expect(toPublic.stdout.contains("public"))
        #expect(harness.stored.bytes(digest, .public) == bytes)
        #expect(!harness.stored.contains(digest, .internal))
        let get = try harness.request("GET", "/sha512/\(digest.hex)")
        #expect(get.status == 200)
        #expect(get.body == bytes)
        #expect(get.header("Cache-Control") == "public, max-age=31536000, immutable")

        let again = try ServerHarness.command(["visibility", digest.hex, "public", "--root", harness.root])
        #expect(again.status == 0)
        #expect(again.stdout.contains("already"))

        let back = try ServerHarness.command(["visibility", digest.hex, "internal", "--root", harness.root])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(harness.stored.contains(digest, .internal))
        #expect(!harness.stored.contains(digest, .public))
        #expect(try harness.request("GET", "/sha512/\(digest.hex)").status == 401)

        // The running server's per-visibility totals follow the moves.
        let metrics = try harness.request("GET", "/metrics").text
        #expect(OpsTests.value(metrics, "tooltool_files{visibility=\"internal\"}") == 1, "\(metrics)")
        #expect(OpsTests.value(metrics, "tooltool_files{visibility=\"public\"}") == 0)
    }

    @Test func tokenUseIsListedAsLastUsedOnceTheServerStops() throws {
        let harness = try ServerHarness(tokens: ["ci": [.downloadPublic]])
        #expect(try harness.request("GET", "/__lbheartbeat__", user: "ci").status == 200)
        #expect(harness.server.stop() == 0)
        let list = try ServerHarness.command(["token", "list", "--root", harness.root])
        let row = try #require(
            list.stdout.split(separator: "\n").first { $0.contains("\tci\t") }?.split(separator: "\t"))
        #expect(row.count == 6, "\(row)")
        #expect(row.count > 4 && row[4] != "-", "LAST USED is set: \(row)")
    }

    @Test func visibilityCommandRefusesBadInput() throws {
        let store = TemporaryDirectory(prefix: "cmd")
        let missing = Fixtures.digest(Fixtures.randomBytes(4)).hex
        for arguments in [[missing, "public"], [String(missing.dropLast()), "public"], [missing, "secret"]] {
            let result = try ServerHarness.command(["visibility"] + arguments + ["--root", store.path])
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.hasPrefix("error:"), "\(arguments): \(result.stderr)")
        }
    }

    @Test func fsckFindsACorruptBlobAndRepairQuarantinesIt() throws {
        let store = TemporaryDirectory(prefix: "fsck")
        let good = Fixtures.randomBytes(2000)
        let goodDigest = Fixtures.digest(good)
        try Fixtures.write(good, to: store.file("pvt/sha512/\(goodDigest.hex)"))
        let claimed = Fixtures.digest(Fixtures.randomBytes(2000))
        let corruptPath = store.file("public/sha512/\(claimed.hex)")
        try Fixtures.write(Fixtures.randomBytes(2000), to: corruptPath)

        let check = try ServerHarness.command(["fsck", "--root", store.path])
        #expect(check.status != 0)
        #expect(check.stdout.contains("corrupt") && check.stdout.contains(claimed.hex), "\(check.stdout)")
        #expect(ServerHarness.exists(corruptPath), "without --repair nothing moves")

        let repair = try ServerHarness.command(["fsck", "--root", store.path, "--repair"])
        #expect(repair.status == 0, "\(repair.stdout)\(repair.stderr)")
        #expect(repair.stdout.contains(claimed.hex))
        #expect(!ServerHarness.exists(corruptPath))
        let quarantined = (try? FileManager.default.contentsOfDirectory(atPath: store.file("quarantine"))) ?? []
        #expect(quarantined.contains { $0.contains(claimed.hex) }, "\(quarantined)")
        #expect(ServerHarness.exists(store.file("pvt/sha512/\(goodDigest.hex)")), "good blobs stay")

        let clean = try ServerHarness.command(["fsck", "--root", store.path])
        #expect(clean.status == 0, "\(clean.stdout)")
        #expect(clean.stdout.contains("clean"))
    }

    @Test func fsckIndexesAHandCopiedBlobAndTheServerCountsIt() throws {
        let store = TemporaryDirectory(prefix: "fsck")
        let bytes = Fixtures.randomBytes(4321)
        let digest = Fixtures.digest(bytes)
        try Fixtures.write(bytes, to: store.file("public/sha512/\(digest.hex)"))

        let first = try ServerHarness.command(["fsck", "--root", store.path])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("indexed\t\(digest.hex)"), "\(first.stdout)")
        let second = try ServerHarness.command(["fsck", "--root", store.path])
        #expect(second.status == 0)
        #expect(!second.stdout.contains("indexed"), "indexed once: \(second.stdout)")

        let server = try ServerProcess(root: store.path)
        let metrics = try RawHTTPClient(port: server.port).request("GET", "/metrics").text
        #expect(metrics.contains("tooltool_files{visibility=\"public\"} 1\n"), "\(metrics)")
        #expect(metrics.contains("tooltool_file_bytes{visibility=\"public\"} 4321\n"))
        #expect(try RawHTTPClient(port: server.port).request("GET", "/sha512/\(digest.hex)").body == bytes)
    }

    /// The server loads FoundationEssentials only: Foundation proper and its ICU data were 9 MiB of every server's
    /// RSS (bench/run's figure at 512 connections went from 38 to 30 MiB without them). Checked in the running
    /// server's memory map, so an `import Foundation` anywhere in its modules fails here.
    @Test func theServerRunsWithoutFoundationProper() throws {
        let store = TemporaryDirectory(prefix: "cmd")
        let server = try ServerProcess(root: store.path)
        // Read to the end: a /proc file says its size is 0, and reads that trust the size stop after one page.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/\(server.pid)/maps"))
        let maps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        #expect(maps.contains("libFoundationEssentials.so"), "the map was not the server's: \(maps.prefix(500))")
        for library in ["libFoundation.so", "libFoundationInternationalization.so", "lib_FoundationICU.so"] {
            #expect(
                !maps.contains("/\(library)"),
                "the server loads \(library) (after an import of Foundation was removed, an incremental build may keep stale objects that still link it: build clean)"
            )
        }
    }

    @Test(arguments: [
        ["serve", "--port", "70000"],
        ["serve", "--threads", "0"],
        ["serve", "--max-upload-size", "-1"],
        ["serve", "--public-url", "ftp://example.com"],
        ["serve", "--s3-upload-concurrency", "0"],
        ["serve", "--s3-part-size", "1048576"],
        ["bogus"],
        ["token", "create", "--user", "alice"],
        ["token", "create", "--user", "alice", "--permission", "download.everything"],
        ["token", "revoke", "not-a-number"],
        ["fsck", "--fix"],
        ["serve", "--root", "/dev/null/store", "--port", "0"]
    ])
    func badArgumentsGiveAnErrorAndANonZeroExit(arguments: [String]) throws {
        let store = TemporaryDirectory(prefix: "cmd")
        let result = try ProcessRunner.run(Binaries.server, arguments, directory: store.path, timeout: 20)
        #expect(result.status != 0, "\(arguments)")
        #expect(result.stderr.hasPrefix("error:"), "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
    }

    @Test(arguments: [
        ["--help"], ["serve", "--help"], ["token", "create", "--help"], ["fsck", "--help"], ["visibility", "--help"]
    ])
    func helpExitsZero(arguments: [String]) throws {
        let result = try ServerHarness.command(arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        #expect((result.stdout + result.stderr).contains("USAGE:"))
    }

    @Test func serveOnABusyPortFailsWithAnError() throws {
        let harness = try ServerHarness()
        let other = TemporaryDirectory(prefix: "cmd")
        let result = try ServerHarness.command(
            ["serve", "--root", other.path, "--port", String(harness.port)], timeout: 10)
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("error:"), "\(result.stderr)")
        #expect(!result.stdout.contains("listening on"))
    }
}
