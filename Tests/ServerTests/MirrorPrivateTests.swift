import Foundation
import Shared
import Synchronization
import TestSupport
import Testing

/// pvt blobs and visibility through a mirror (`serve --upstream`, `--upstream-auth-ttl`): a real primary with real
/// tokens and a real mirror in front of it; tokens are revoked and blobs switched on the primary with the real
/// `tooltool-server` commands.
@Suite struct MirrorPrivateTests {
    /// A primary with an uploader, a reader of pvt blobs ("reader"), a token without that permission ("other"), and
    /// a mirror in front of it.
    final class Pair {
        let primary: ServerHarness
        let mirrorRoot = TemporaryDirectory(prefix: "mirror-pvt")
        let mirror: ServerProcess

        init(ttl: Int? = nil) throws {
            primary = try ServerHarness(tokens: [
                "up": [.uploadPublic, .uploadInternal], "reader": [.downloadInternal],
                "other": [.downloadPublic]
            ])
            mirror = try ServerProcess(
                root: mirrorRoot.path,
                arguments: ["--upstream", primary.server.url]
                    + (ttl.map { ["--upstream-auth-ttl", String($0)] } ?? []))
        }

        /// Uploads `bytes` to the primary.
        func upload(_ bytes: [UInt8], visibility: String) throws -> Digest {
            let response = try primary.put(bytes, visibility: visibility, user: "up")
            try #require(response.status == 200, "upload: \(response.text)")
            return Fixtures.digest(bytes)
        }

        /// A GET of the blob from the mirror with `user`'s primary token (or `rawToken`, or none).
        func get(_ digest: Digest, user: String? = nil, rawToken: String? = nil) throws -> RawHTTPResponse {
            try RawHTTPClient(port: mirror.port).request(
                "GET", "/sha512/\(digest.hex)",
                headers: primary.authorization(user: user, rawToken: rawToken))
        }

        /// The mirror's copy under `folder` (`public` or `pvt`), if any.
        func kept(_ digest: Digest, in folder: String) -> [UInt8]? {
            Fixtures.read(mirrorRoot.file("\(folder)/sha512/\(digest.hex)"))
        }

        /// Files left in the mirror's temp folder.
        var temporaryFiles: [String] {
            (try? FileManager.default.contentsOfDirectory(atPath: mirrorRoot.file(".tmp"))) ?? []
        }

        /// Runs a `tooltool-server` command on the primary's store (`--root` goes after the (sub)command's `words`).
        func onPrimary(_ words: Int, _ arguments: [String]) throws {
            let result = try ServerHarness.command(
                Array(arguments.prefix(words)) + ["--root", primary.root] + arguments.dropFirst(words))
            try #require(result.status == 0, "\(arguments): \(result.stderr)")
        }

        /// The primary's id for `user`'s token (from `token list`).
        func tokenID(_ user: String) throws -> String {
            let result = try ServerHarness.command(["token", "list", "--root", primary.root])
            let line = try #require(
                result.stdout.split(separator: "\n").first {
                    $0.split(separator: "\t").dropFirst().first == Substring(user)
                })
            return String(line.split(separator: "\t")[0])
        }

        /// Asks `get` until `done` holds of its answer or 20 s passed (at most 200 tries); returns the last answer.
        func poll(_ get: () throws -> RawHTTPResponse, until done: (RawHTTPResponse) -> Bool) throws -> RawHTTPResponse
        {
            let deadline = Date().addingTimeInterval(20)
            var response = try get()
            var tries = 1
            while !done(response), Date() < deadline, tries < 200 {
                usleep(100_000)
                response = try get()
                tries += 1
            }
            return response
        }

        /// The mirror's `/metrics` sample for `tooltool_mirror_checks_total{verdict}`.
        func checks(_ verdict: String) throws -> Int {
            let text = try RawHTTPClient(port: mirror.port).request("GET", "/metrics").text
            let prefix = "tooltool_mirror_checks_total{verdict=\"\(verdict)\"} "
            return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap {
                Int($0.dropFirst(prefix.count))
            } ?? -1
        }
    }

    @Test func aPvtBlobGoesToAnAllowedTokenIsKeptUnderPvtAndGoesToNoOneElse() throws {
        let pair = try Pair()
        let secret = Fixtures.randomBytes(600_000)
        let digest = try pair.upload(secret, visibility: "internal")

        let allowed = try pair.get(digest, user: "reader")
        #expect(allowed.status == 200)
        #expect(allowed.body == secret)
        #expect(allowed.header("Cache-Control") == "private, max-age=31536000, immutable")
        #expect(pair.kept(digest, in: "pvt") == secret, "a pvt blob is kept under pvt/")
        #expect(pair.kept(digest, in: "public") == nil, "never under public/")

        // Held now: served again to the allowed token, to no one else.
        #expect(try pair.get(digest, user: "reader").body == secret)
        let anonymous = try pair.get(digest)
        expectError(anonymous, 401, .unauthorized)
        #expect(anonymous.body != secret)
        let other = try pair.get(digest, user: "other")
        expectError(other, 403, .forbidden)
        #expect(other.body != secret)
        let wrong = try pair.get(digest, rawToken: "not-a-token-of-anyone")
        expectError(wrong, 401, .unauthorized)
        #expect(try pair.checks("denied") == 2, "each never-allowed token was asked about upstream")
        for token in pair.primary.tokens.values {
            #expect(!pair.mirror.stderr().contains(token), "tokens are never logged")
        }
        #expect(!pair.mirror.stderr().contains("not-a-token-of-anyone"))
    }

    @Test func aMissForAPvtBlobWithAWrongOrNoTokenGetsTheUpstreamsAnswerAndKeepsNothing() throws {
        let pair = try Pair()
        let secret = Fixtures.randomBytes(300_000)
        let digest = try pair.upload(secret, visibility: "internal")
        expectError(try pair.get(digest), 401, .unauthorized)
        expectError(try pair.get(digest, user: "other"), 403, .forbidden)
        expectError(try pair.get(digest, rawToken: "not-a-token-of-anyone"), 401, .unauthorized)
        #expect(pair.kept(digest, in: "pvt") == nil)
        #expect(pair.kept(digest, in: "public") == nil)
        #expect(pair.temporaryFiles.isEmpty)
    }

    @Test func concurrentMissesWithDifferentTokensServeOnlyTheAllowedOne() throws {
        let pair = try Pair()
        let secret = Fixtures.randomBytes(8 << 20)
        let digest = try pair.upload(secret, visibility: "internal")
        let users: [String?] = ["reader", "other", nil, "reader", "other", nil]
        let headers = users.map { pair.primary.authorization(user: $0) }
        let port = pair.mirror.port
        let results = Mutex<[Int: RawHTTPResponse]>([:])
        DispatchQueue.concurrentPerform(iterations: users.count) { index in
            if let response = try? RawHTTPClient(port: port).request(
                "GET", "/sha512/\(digest.hex)", headers: headers[index])
            {
                results.withLock { $0[index] = response }
            }
        }
        let responses = results.withLock { $0 }
        #expect(responses.count == users.count)
        for (index, response) in responses {
            switch users[index] {
            case "reader":
                #expect(response.status == 200)
                #expect(response.body == secret)
            case "other":
                expectError(response, 403, .forbidden)
            default:
                expectError(response, 401, .unauthorized)
            }
        }
        #expect(pair.kept(digest, in: "pvt") == secret)
    }

    @Test func aTokenRevokedOnThePrimaryStopsWorkingOnTheMirrorAfterTheTTL() throws {
        let pair = try Pair(ttl: 1)
        let secret = Fixtures.randomBytes(100_000)
        let digest = try pair.upload(secret, visibility: "internal")
        #expect(try pair.get(digest, user: "reader").body == secret)
        #expect(pair.kept(digest, in: "pvt") == secret)

        try pair.onPrimary(2, ["token", "revoke", try pair.tokenID("reader")])
        let after = try pair.poll({ try pair.get(digest, user: "reader") }, until: { $0.status != 200 })
        expectError(after, 401, .unauthorized)
        #expect(after.body != secret)
        #expect(pair.kept(digest, in: "pvt") == secret, "the blob stays held for tokens still allowed")
    }

    @Test func aHeldPvtBlobDeletedUpstreamIsA404ForTheTokenAfterTheTTL() throws {
        let pair = try Pair(ttl: 1)
        let secret = Fixtures.randomBytes(50_000)
        let digest = try pair.upload(secret, visibility: "internal")
        #expect(try pair.get(digest, user: "reader").body == secret)
        let admin = try ServerHarness.createToken(root: pair.primary.root, user: "admin", permissions: [.manage])
        let patch = try pair.primary.request(
            "PATCH", "/file/sha512/\(digest.hex)", rawToken: admin,
            headers: [("Content-Type", "application/json")],
            body: Array(#"[{"op": "delete_instances"}]"#.utf8))
        try #require(patch.status == 200, "\(patch.text)")
        let gone = try pair.poll({ try pair.get(digest, user: "reader") }, until: { $0.status != 200 })
        expectError(gone, 404, .notFound)
        #expect(gone.body != secret)
    }

    @Test func withThePrimaryKilledPastTheTTLPublicBlobsAreStillServedAndPvtOnesAreNot() throws {
        let pair = try Pair(ttl: 1)
        let bytes = Fixtures.randomBytes(100_000)
        let digest = try pair.upload(bytes, visibility: "public")
        let secret = Fixtures.randomBytes(100_000)
        let secretDigest = try pair.upload(secret, visibility: "internal")
        #expect(try pair.get(digest).body == bytes)
        #expect(try pair.get(secretDigest, user: "reader").body == secret)

        pair.primary.server.kill9()
        usleep(1_500_000)  // past the TTL: the upstream's word on both is stale (not a timed assertion)
        let cached = try pair.get(digest)
        #expect(cached.status == 200)
        #expect(cached.body == bytes)
        expectError(try pair.get(secretDigest, user: "reader"), 502, .badGateway)
        #expect(try pair.checks("unreachable") >= 1)
        #expect(try pair.get(digest).body == bytes, "served again without asking while the upstream is down")
    }

    @Test func aVisibilitySwitchUpstreamReachesTheMirrorAfterTheTTL() throws {
        let pair = try Pair(ttl: 1)
        let bytes = Fixtures.randomBytes(200_000)
        let digest = try pair.upload(bytes, visibility: "public")
        #expect(try pair.get(digest).body == bytes)
        #expect(pair.kept(digest, in: "public") == bytes)

        try pair.onPrimary(1, ["visibility", digest.hex, "internal"])
        let hidden = try pair.poll({ try pair.get(digest) }, until: { $0.status != 200 })
        expectError(hidden, 401, .unauthorized)
        #expect(hidden.body != bytes)
        #expect(pair.kept(digest, in: "pvt") == bytes, "moved under pvt/ on the mirror")
        #expect(pair.kept(digest, in: "public") == nil)
        #expect(try pair.get(digest, user: "reader").body == bytes, "an allowed token still reads it")
        expectError(try pair.get(digest, user: "other"), 403, .forbidden)

        try pair.onPrimary(1, ["visibility", digest.hex, "public"])
        let shown = try pair.poll({ try pair.get(digest) }, until: { $0.status == 200 })
        #expect(shown.status == 200)
        #expect(shown.body == bytes)
        #expect(pair.kept(digest, in: "public") == bytes, "back under public/")
        #expect(try pair.checks("private") >= 1)
        #expect(try pair.checks("public") >= 1)
    }
}
