import ClientCore
import Foundation
import TestSupport
import Testing

/// The command line: usage errors exit 2, `--help` exits 0, options go before or after the command.
@Suite struct CommandLineTests {
    @Test(arguments: [
        (["frobnicate"], "unknown command"),
        (["--frobnicate", "list"], "no such option: --frobnicate"),
        (["list", "-z"], "no such option: -z"),
        ([], "You must specify a command"),
        (["list", "-m"], "-m/--manifest option requires 1 argument"),
        (["fetch", "-j", "0"], "-j/--jobs: expected an integer >= 1, got \"0\""),
        (["add", "x", "-d", "md5"], "invalid choice: 'md5'"),
        (["add", "x", "--visibility", "secret"], "invalid choice: 'secret'"),
        (["purge", "-s", "lots"], "expected a number of gigabytes"),
        (["--timeout", "0", "fetch"], "expected a number of seconds > 0")
    ])
    func usageErrorsExit2(arguments: [String], message: String) throws {
        let dir = TemporaryDirectory(prefix: "cli")
        let result = try Client.run(arguments, in: dir.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("Usage: tooltool"))
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func everyCommandParsesToItsCaseAndAnUnknownOneListsThemAll() throws {
        for command in ClientCommand.allCases {
            let options = try CommandLineParser.parse([command.rawValue, "a"], environment: [:])
            #expect(options.command == command && options.files == ["a"])
        }
        #expect(try CommandLineParser.parse(["-q", "change-visibility"], environment: [:]).command == .changeVisibility)
        #expect(try CommandLineParser.parse(["--help"], environment: [:]).command == nil)
        #expect(throws: ClientError.self) { try CommandLineParser.parse(["Fetch"], environment: [:]) }
        do {
            _ = try CommandLineParser.parse(["frobnicate"], environment: [:])
            Issue.record("an unknown command parsed")
        } catch {
            #expect(error.code == .usage)
            #expect(
                error.message == "unknown command \"frobnicate\"; expected one of list, validate, add, fetch, upload, "
                    + "change-visibility, delete, purge")
        }
    }

    @Test func helpListsEveryOptionAndExits0() throws {
        let dir = TemporaryDirectory(prefix: "cli")
        let result = try Client.run(["--help"], in: dir.path)
        #expect(result.status == 0)
        for option in [
            "--manifest", "--url", "--cache-folder", "--size", "--overwrite", "--quiet", "--verbose",
            "--algorithm", "--visibility", "--unpack", "--version", "--message", "--digest", "--verify-cache",
            "--authentication-file", "--jobs", "--retries", "--timeout", "TOOLTOOL_RETRY_BASE_MS"
        ] {
            #expect(result.stdout.contains(option), "help lacks \(option)")
        }
        #expect(try Client.run(["fetch", "-h"], in: dir.path).status == 0)
    }

    @Test func optionsAfterTheCommandAndAbbreviations() throws {
        let dir = TemporaryDirectory(prefix: "cli")
        let blob = Blob("a.bin", size: 100)
        try Fixtures.write(blob.bytes, to: dir.file("a.bin"))
        let added = try Client.run(["add", "a.bin", "-m", "other.tt", "--visib=public", "--"], in: dir.path)
        #expect(added.status == 0, "\(added.stderr)")
        let listed = try Client.run(["list", "--manifest=other.tt"], in: dir.path)
        #expect(listed.stdout == "P\tV\ta.bin\n")
        #expect(try Client.run(["-qm", "other.tt", "validate"], in: dir.path).status == 0)
    }

    @Test func missingRequiredValuesAreClearFailures() throws {
        let dir = TemporaryDirectory(prefix: "cli")
        try Client.writeManifest([], in: dir.path)
        let upload = try Client.run(["upload", "--url", "http://127.0.0.1:9"], in: dir.path)
        #expect(upload.status == 1)
        #expect(upload.stderr.contains("ERROR - upload needs a batch message"))
        let purge = try Client.run(["purge"], in: dir.path)
        #expect(purge.status == 1)
        #expect(purge.stderr.contains("purge needs the cache folder"))
        let delete = try Client.run(["delete", "--digest", "abc", "--url", "http://127.0.0.1:9"], in: dir.path)
        #expect(delete.status == 1)
        #expect(delete.stderr.contains("digest must be 128 lowercase hex characters, got 3"))
        let auth = try Client.run(
            ["fetch", "--authentication-file", "nope", "--url", "http://127.0.0.1:9"], in: dir.path)
        #expect(auth.status == 1)
        #expect(auth.stderr.contains("cannot read the authentication file"))
    }
}
