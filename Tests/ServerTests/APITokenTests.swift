import Foundation
import Shared
import TestSupport
import Testing

/// `GET /auth/whoami` and token management over HTTP: `GET /tokens`, `POST /tokens`, `DELETE /tokens/<id>`.
@Suite struct APITokenTests {
    @Test func whoamiAnswersForTheCallerOnly() throws {
        let harness = try APIHarness()
        let alice = try harness.token("alice", "upload.public", "download.internal")
        _ = try harness.token("bob", "manage")
        let response = try harness.send("GET", "/auth/whoami", token: alice)
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        let result = try #require(try harness.json(response)["result"])
        #expect(result["user"] == "alice")
        #expect(result["permissions"] == ["download.internal", "upload.public"])
        #expect(result["id"] == 1)
        #expect(!response.text.contains("bob"))

        for token: String? in [nil, String(repeating: "0", count: 64)] {
            let refused = try harness.send("GET", "/auth/whoami", token: token)
            #expect(refused.status == 401)
            #expect(refused.header("WWW-Authenticate") == "Bearer realm=\"tooltool\"")
            #expect(harness.errorName(refused) == .unauthorized)
        }
        #expect(try harness.send("POST", "/auth/whoami", token: alice).status == 405)
    }

    @Test func manageTokensCreateListAndRevoke() throws {
        let harness = try APIHarness()
        let admin = try harness.token("admin", "manage")
        let created = try harness.send(
            "POST", "/tokens", token: admin,
            json: ["user": "ci-bot", "permissions": ["upload.public", "tooltool.download.internal"]])
        #expect(created.status == 200, "\(created.text)")
        let result = try #require(try harness.json(created)["result"])
        let secret = try #require(result["token"]?.stringValue)
        #expect(secret.count == 64 && secret.allSatisfy(\.isHexDigit))
        #expect(result["user"] == "ci-bot")
        #expect(result["permissions"] == ["download.internal", "upload.public"])
        #expect(result["revoked"] == .null)
        let id = try #require(result["id"]?.intValue)

        // The new token works at once and is who it says.
        let whoami = try harness.json(try harness.send("GET", "/auth/whoami", token: secret))
        #expect(whoami["result"]?["user"] == "ci-bot")

        // Listing never shows a secret or a hash; the offline command sees the same token.
        let list = try harness.send("GET", "/tokens", token: admin)
        #expect(list.status == 200)
        let tokens = try #require(try harness.json(list)["result"]?.arrayValue)
        #expect(tokens.compactMap { $0["user"]?.stringValue } == ["admin", "ci-bot"])
        #expect(!list.text.contains(secret))
        #expect(tokens.allSatisfy { $0["token"] == nil })
        let offline = try ServerCommandLine.run(["token", "list", "--root", harness.root])
        #expect(offline.stdout.contains("ci-bot\tdownload.internal,upload.public"))
        // Only the SHA-256 is stored.
        if let database = TestIndex.postgresDatabase(root: harness.root) {
            let rows = try PostgresCluster.shared.get().psql(
                "SELECT *, encode(token_hash, 'escape') FROM tokens", database: database)
            #expect(rows.contains("ci-bot") && !rows.contains(secret))
        } else {
            let database = try Data(contentsOf: URL(fileURLWithPath: harness.root + "/tooltool.sqlite"))
            #expect(database.range(of: Data(secret.utf8)) == nil)
        }

        // Revoking takes effect on the very next request.
        let revoked = try harness.send("DELETE", "/tokens/\(id)", token: admin)
        #expect(revoked.status == 200, "\(revoked.text)")
        #expect(try harness.json(revoked)["result"]?["revoked"]?.stringValue != nil)
        let after = try harness.send("GET", "/auth/whoami", token: secret)
        #expect(after.status == 401)
        #expect(try harness.send("GET", "/sha512/\(String(repeating: "a", count: 128))", token: secret).status == 401)
        // Again: still 200 (already revoked); unknown: 404.
        #expect(try harness.send("DELETE", "/tokens/\(id)", token: admin).status == 200)
        let unknown = try harness.send("DELETE", "/tokens/999", token: admin)
        #expect(unknown.status == 404)
        #expect(harness.errorName(unknown) == .notFound)
    }

    @Test func tokenRoutesNeedManage() throws {
        let harness = try APIHarness()
        let uploader = try harness.token("up", "upload.public", "upload.internal", "download.internal")
        let admin = try harness.token("admin", "manage")
        let body: JSONValue = ["user": "x", "permissions": ["manage"]]
        for (method, path) in [("GET", "/tokens"), ("POST", "/tokens"), ("DELETE", "/tokens/2")] {
            let forbidden = try harness.send(method, path, token: uploader, json: method == "POST" ? body : nil)
            #expect(forbidden.status == 403, "\(method) \(path)")
            #expect(harness.errorName(forbidden) == .forbidden)
            #expect(forbidden.text.contains("manage"))
            #expect(try harness.send(method, path, json: method == "POST" ? body : nil).status == 401)
        }
        // Nothing was created or revoked by the refused calls.
        let tokens = try harness.json(try harness.send("GET", "/tokens", token: admin))["result"]?.arrayValue ?? []
        #expect(tokens.count == 2)
        #expect(tokens.allSatisfy { $0["revoked"] == .null })
        #expect(try harness.send("PUT", "/tokens", token: admin).status == 405)
        #expect(try harness.send("GET", "/tokens/1", token: admin).status == 405)
    }

    @Test func createRefusesBadBodies() throws {
        let harness = try APIHarness()
        let admin = try harness.token("admin", "manage")
        let cases: [(JSONValue, APIErrorName, String)] = [
            (["permissions": ["manage"]], .badRequest, "user is missing"),
            (["user": "  ", "permissions": ["manage"]], .badRequest, "user must not be empty"),
            (["user": 3, "permissions": ["manage"]], .badRequest, "user must be a string"),
            (["user": "x", "permissions": []], .badRequest, "at least one"),
            (["user": "x", "permissions": "manage"], .badRequest, "must be a list"),
            (["user": "x", "permissions": ["root"]], .badPermission, "unknown permission \\\"root\\\""),
            (["user": "x\u{1}", "permissions": ["manage"]], .badRequest, "control characters"),
            ([1, 2], .badRequest, "JSON object")
        ]
        for (body, name, text) in cases {
            let response = try harness.send("POST", "/tokens", token: admin, json: body)
            #expect(response.status == 400, "\(body)")
            #expect(harness.errorName(response) == name, "\(response.text)")
            #expect(response.text.contains(text), "\(response.text)")
        }
        let malformed = try harness.send("POST", "/tokens", token: admin, body: Array("{".utf8))
        #expect(harness.errorName(malformed) == .badJSON)
        let tokens = try harness.json(try harness.send("GET", "/tokens", token: admin))["result"]?.arrayValue ?? []
        #expect(tokens.count == 1)
    }
}
