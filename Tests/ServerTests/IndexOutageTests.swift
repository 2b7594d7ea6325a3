import Foundation
import Shared
import TestSupport
import Testing

/// PostgreSQL stopped under a running server, then started again: API routes answer 503 with `Retry-After`, blob
/// GETs keep working (public ones, and internal ones for a token the server already holds), the heartbeat says the
/// index is down, and everything works again without a restart.
@Suite struct IndexOutageTests {
    @Test func theServerRidesOutADatabaseStopAndRecoversWhenItStarts() throws {
        let cluster = try PostgresCluster()  // its own: this test stops it
        let uri = try cluster.makeDatabase()
        let harness = try ServerHarness(tokens: [:], arguments: ["--index", uri], prefix: "outage")
        func command(_ arguments: [String]) throws -> String {
            let result = try ServerHarness.command(arguments + ["--root", harness.root, "--index", uri])
            try #require(result.status == 0, "\(arguments): \(result.stderr)")
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let token = try command([
            "token", "create", "--user", "ci", "--permission", "download.internal",
            "--permission", "upload.public"
        ])
        #expect(eventually(timeout: 5) { (try? harness.request("GET", "/file?q=x", rawToken: token).status) == 200 })
        let publicBytes = Fixtures.randomBytes(3000), internalBytes = Fixtures.randomBytes(2000)
        let publicDigest = try harness.storeByHand(publicBytes, .public)
        let internalDigest = try harness.storeByHand(internalBytes, .internal)
        #expect(try harness.request("GET", "/__heartbeat__").status == 200)

        try cluster.pause()
        let search = try harness.request("GET", "/file?q=x", rawToken: token)
        expectError(search, 503, .indexUnavailable)
        #expect(search.header("Retry-After") == "5")
        let file = APIFile("new.bin", size: 100)
        let batch = try harness.request(
            "POST", "/upload", rawToken: token, headers: [("Content-Type", "application/json")],
            body: Array(JSONWriter.write(APIHarness.batch("during the outage", [file])).utf8))
        expectError(batch, 503, .indexUnavailable)
        #expect(batch.header("Retry-After") == "5")
        let details = try harness.request("GET", "/file/sha512/\(publicDigest.hex)", rawToken: token)
        expectError(details, 503, .indexUnavailable)
        #expect(
            try harness.request("GET", "/sha512/\(publicDigest.hex)").body == publicBytes, "public GETs need no index")
        let privateGet = try harness.request("GET", "/sha512/\(internalDigest.hex)", rawToken: token)
        #expect(
            privateGet.status == 200 && privateGet.body == internalBytes,
            "a held token still works: \(privateGet.status)")
        #expect(
            try harness.request("GET", "/sha512/\(internalDigest.hex)", rawToken: String(repeating: "0", count: 64))
                .status == 401)
        // A PUT during the outage is not acknowledged (503); after it, the same PUT is.
        let putBytes = Fixtures.randomBytes(4000)
        let put = try harness.put(
            putBytes, visibility: "public", user: nil, headers: [("Authorization", "Bearer \(token)")])
        expectError(put, 503, .indexUnavailable)
        let heartbeat = try harness.request("GET", "/__heartbeat__")
        #expect(heartbeat.status == 503)
        #expect(heartbeat.text.contains("the index is down"), "\(heartbeat.text)")
        #expect(harness.server.isRunning)

        try cluster.resume()
        #expect(
            eventually(timeout: 20) { (try? harness.request("GET", "/file?q=x", rawToken: token).status) == 200 },
            "the API answers again without a restart")
        #expect(try harness.request("GET", "/__heartbeat__").status == 200)
        #expect(try harness.request("GET", "/file/sha512/\(publicDigest.hex)", rawToken: token).status == 200)
        let again = try harness.put(
            putBytes, visibility: "public", user: nil, headers: [("Authorization", "Bearer \(token)")])
        #expect(again.status == 200, "\(again.text)")
        let stored = try harness.request("GET", "/file/sha512/\(Fixtures.digest(putBytes).hex)", rawToken: token)
        #expect(stored.status == 200 && stored.text.contains("\"has_instances\":true"), "\(stored.text)")
        // The token listener reconnected too: a token made now works, one revoked now is refused.
        let later = try command(["token", "create", "--user", "late", "--permission", "download.public"])
        #expect(eventually(timeout: 5) { (try? harness.request("GET", "/file?q=x", rawToken: later).status) == 200 })
        _ = try command(["token", "revoke", "1"])
        #expect(eventually(timeout: 5) { (try? harness.request("GET", "/file?q=x", rawToken: token).status) == 401 })
        #expect(!harness.server.stderr().contains(token), "the token is never logged")
    }
}
