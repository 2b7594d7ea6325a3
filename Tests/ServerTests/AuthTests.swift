import Foundation
import Shared
import TestSupport
import Testing

/// Who may download: anonymous callers, tokens with and without permissions, unknown and revoked tokens.
@Suite struct AuthTests {
    static let bearerChallenge = "Bearer realm=\"tooltool\""

    @Test func privateBlobNeedsATokenWithDownloadInternal() throws {
        let harness = try ServerHarness(tokens: [
            "ci": [.downloadInternal], "public-only": [.downloadPublic, .uploadInternal]
        ])
        let bytes = Fixtures.randomBytes(3000)
        let digest = try harness.storeByHand(bytes, .internal)
        let target = "/sha512/\(digest.hex)"

        let anonymous = try harness.request("GET", target)
        expectError(anonymous, 401, .unauthorized)
        #expect(anonymous.header("WWW-Authenticate") == Self.bearerChallenge)
        let anonymousHead = try harness.request("HEAD", target)
        #expect(anonymousHead.status == 401)
        #expect(anonymousHead.header("WWW-Authenticate") == Self.bearerChallenge)

        let forbidden = try harness.request("GET", target, user: "public-only")
        expectError(forbidden, 403, .forbidden)
        #expect(forbidden.errorDescription?.contains("download.internal") == true)
        #expect(forbidden.header("WWW-Authenticate") == nil)

        let allowed = try harness.request("GET", target, user: "ci")
        #expect(allowed.status == 200)
        #expect(allowed.body == bytes)
    }

    @Test func unknownTokenGives401OnEveryRoute() throws {
        let harness = try ServerHarness(tokens: ["ci": [.downloadInternal, .uploadInternal, .uploadPublic]])
        let publicDigest = try harness.storeByHand(Fixtures.randomBytes(100), .public)
        let privateDigest = try harness.storeByHand(Fixtures.randomBytes(100), .internal)
        let missing = Fixtures.digest(Fixtures.randomBytes(5))
        let bogus = String(repeating: "ab", count: 32)
        let requests: [(String, String)] = [
            ("GET", "/sha512/\(publicDigest.hex)"), ("HEAD", "/sha512/\(publicDigest.hex)"),
            ("GET", "/sha512/\(privateDigest.hex)"), ("GET", "/sha512/\(missing.hex)"),
            ("PUT", "/sha512/\(missing.hex)"), ("GET", "/sha512/not-a-digest"),
            ("GET", "/__lbheartbeat__"), ("GET", "/__heartbeat__"), ("GET", "/__version__"), ("GET", "/metrics"),
            ("GET", "/no/such/route"), ("DELETE", "/sha512/\(publicDigest.hex)")
        ]
        for (method, target) in requests {
            let response = try harness.request(method, target, rawToken: bogus)
            #expect(response.status == 401, "\(method) \(target) gave \(response.status)")
            #expect(response.header("WWW-Authenticate") == Self.bearerChallenge, "\(method) \(target)")
            if method != "HEAD" { expectError(response, 401, .unauthorized) }
        }
        // Another scheme, or an empty bearer, is no better than a wrong token.
        for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Token \(harness.tokens["ci"]!)"] {
            let response = try harness.request("GET", "/__lbheartbeat__", headers: [("Authorization", value)])
            #expect(response.status == 401, "Authorization: \(value)")
        }
    }

    @Test func revokedTokenGives401WithinASecondWhileTheServerRuns() throws {
        let harness = try ServerHarness(tokens: ["ci": [.downloadInternal]])
        let bytes = Fixtures.randomBytes(500)
        let privateDigest = try harness.storeByHand(bytes, .internal)
        let publicDigest = try harness.storeByHand(Fixtures.randomBytes(500), .public)
        #expect(try harness.request("GET", "/sha512/\(privateDigest.hex)", user: "ci").status == 200)

        let list = try ServerHarness.command(["token", "list", "--root", harness.root])
        let line = try #require(
            list.stdout.split(separator: "\n").first { $0.split(separator: "\t").dropFirst().first == "ci" })
        let id = String(line.split(separator: "\t")[0])
        let revoke = try ServerHarness.command(["token", "revoke", id, "--root", harness.root])
        #expect(revoke.status == 0, "\(revoke.stderr)")
        let revokedAt = Date()

        #expect(
            eventually(timeout: 1) {
                (try? harness.request("GET", "/sha512/\(privateDigest.hex)", user: "ci").status) == 401
            }, "the revoked token still works after a second")
        #expect(Date().timeIntervalSince(revokedAt) < 1.5)
        for target in ["/sha512/\(publicDigest.hex)", "/__lbheartbeat__"] {
            let response = try harness.request("GET", target, user: "ci")
            #expect(response.status == 401, "\(target)")
            #expect(response.header("WWW-Authenticate") == Self.bearerChallenge)
        }
        // Anonymous public downloads are unaffected.
        #expect(try harness.request("GET", "/sha512/\(publicDigest.hex)").status == 200)
    }

    @Test func tokenCreatedWhileTheServerRunsWorksAtOnce() throws {
        let harness = try ServerHarness()
        let digest = try harness.storeByHand(Fixtures.randomBytes(100), .internal)
        let token = try ServerHarness.createToken(root: harness.root, user: "late", permissions: [.downloadInternal])
        #expect(try harness.request("GET", "/sha512/\(digest.hex)", rawToken: token).status == 200)
    }

    @Test func noAnonymousPublicRequiresDownloadPublic() throws {
        let harness = try ServerHarness(
            tokens: ["reader": [.downloadPublic], "internal-reader": [.downloadInternal]],
            arguments: ["--no-anonymous-public"])
        let bytes = Fixtures.randomBytes(800)
        let digest = try harness.storeByHand(bytes, .public)
        let target = "/sha512/\(digest.hex)"

        let anonymous = try harness.request("GET", target)
        expectError(anonymous, 401, .unauthorized)
        #expect(anonymous.header("WWW-Authenticate") == Self.bearerChallenge)
        expectError(try harness.request("GET", target, user: "internal-reader"), 403, .forbidden)
        let allowed = try harness.request("GET", target, user: "reader")
        #expect(allowed.status == 200)
        #expect(allowed.body == bytes)
        #expect(allowed.header("Cache-Control") == "public, max-age=31536000, immutable")
        // Operations endpoints stay open for load balancers.
        #expect(try harness.request("GET", "/__lbheartbeat__").status == 200)
    }

    @Test func anonymousPublicDownloadNeedsNoToken() throws {
        let harness = try ServerHarness(tokens: ["nothing-useful": [.manage]])
        let bytes = Fixtures.randomBytes(800)
        let digest = try harness.storeByHand(bytes, .public)
        #expect(try harness.request("GET", "/sha512/\(digest.hex)").body == bytes)
        // A valid token without download.public is still fine for public blobs when anonymous access is on.
        #expect(try harness.request("GET", "/sha512/\(digest.hex)", user: "nothing-useful").status == 200)
    }
}
