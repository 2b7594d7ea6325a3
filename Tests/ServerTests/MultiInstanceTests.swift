import Foundation
import Shared
import TestSupport
import Testing

/// Three real servers on one PostgreSQL index and one shared store folder act as one: tokens made or revoked by
/// the `token` command reach every instance within a second, a `put_url` from one instance works on another, and
/// a visibility switch made through one is what the others serve.
@Suite struct MultiInstanceTests {
    /// Three servers on one PostgreSQL database and one root, each told the index a different way.
    final class Fleet {
        let directory = TemporaryDirectory(prefix: "fleet")
        let uri: String
        let servers: [ServerProcess]
        var root: String { directory.path }

        /// Starts the three on a fresh database of the shared cluster, or on `uri`; each logs to its own file.
        init(arguments: [String] = [], uri: String? = nil) throws {
            self.uri = try uri ?? PostgresCluster.freshDatabase()
            let locationFile = directory.file("index-location")
            try Data(self.uri.utf8).write(to: URL(fileURLWithPath: locationFile))
            servers = [
                try ServerProcess(root: directory.path, arguments: ["--index", self.uri] + arguments, logName: "a.log"),
                try ServerProcess(
                    root: directory.path, arguments: ["--index-file", locationFile] + arguments, logName: "b.log"),
                try ServerProcess(
                    root: directory.path, arguments: arguments, environment: ["TOOLTOOL_INDEX": self.uri],
                    logName: "c.log")
            ]
        }

        /// A token made by `token create` that every server already accepts (waited for, bounded).
        func token(_ user: String, _ permissions: [String]) throws -> String {
            let created = try command(
                ["token", "create", "--user", user] + permissions.flatMap { ["--permission", $0] })
            try #require(created.status == 0, "\(created.stderr)")
            let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try #require(try waitForAll("/auth/whoami", token: token, status: 200, seconds: 10).isEmpty)
            return token
        }

        /// `tooltool-server ARGS --root ROOT --index URI`.
        func command(_ arguments: [String]) throws -> ProcessResult {
            try ProcessRunner.run(Binaries.server, arguments + ["--root", root, "--index", uri], timeout: 60)
        }

        /// One request to `server` (the client sends `Host: 127.0.0.1:PORT`).
        func send(
            _ server: ServerProcess, _ method: String, _ target: String, token: String? = nil,
            body: [UInt8] = [], json: Bool = false
        ) throws -> RawHTTPResponse {
            var headers: [(String, String)] = []
            if let token { headers.append(("Authorization", "Bearer \(token)")) }
            if json { headers.append(("Content-Type", "application/json")) }
            return try RawHTTPClient(port: server.port).request(method, target, headers: headers, body: body)
        }

        /// Polls until every server answers `target` with `status`, for at most `seconds`; returns what the servers
        /// that never did answered last.
        func waitForAll(_ target: String, token: String?, status: Int, seconds: Double) throws -> [String] {
            let deadline = Date().addingTimeInterval(seconds)
            var pending = servers
            var last: [String] = []
            while !pending.isEmpty {
                last = []
                pending = try pending.filter { server in
                    let response = try send(server, "GET", target, token: token)
                    if response.status != status { last.append("\(server.port): \(response.status) \(response.text)") }
                    return response.status != status
                }
                if pending.isEmpty || Date() > deadline { break }
                usleep(20_000)
            }
            return last
        }
    }

    @Test func tokensReachEveryInstanceWithinASecondAndRevocationToo() throws {
        let fleet = try Fleet()
        let created = try fleet.command(["token", "create", "--user", "ci", "--permission", "download.internal"])
        try #require(created.status == 0, "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            try fleet.waitForAll("/file?q=x", token: token, status: 200, seconds: 1).isEmpty,
            "every instance takes a new token within 1 s")

        let revoked = try fleet.command(["token", "revoke", "1"])
        try #require(revoked.status == 0, "\(revoked.stderr)")
        #expect(
            try fleet.waitForAll("/file?q=x", token: token, status: 401, seconds: 1).isEmpty,
            "every instance refuses a revoked token within 1 s")
        for server in fleet.servers { #expect(!server.stderr().contains(token), "the token is never logged") }
    }

    @Test func aBatchPostedToOneIsPutOnAnotherCompletedOnTheThirdAndSwitchedEverywhere() throws {
        let fleet = try Fleet()
        let created = try fleet.command([
            "token", "create", "--user", "alice", "--permission", "upload.public",
            "--permission", "download.internal", "--permission", "manage"
        ])
        try #require(created.status == 0, "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(try fleet.waitForAll("/file?q=x", token: token, status: 200, seconds: 5).isEmpty)
        let (a, b, c) = (fleet.servers[0], fleet.servers[1], fleet.servers[2])

        let bytes = Fixtures.randomBytes(5000)
        let digest = Fixtures.digest(bytes)
        let batch: JSONValue = [
            "message": "Bug 13 - one store, three servers",
            "files": [
                "sdk.tar.gz": [
                    "size": .int(5000), "digest": .string(digest.hex), "algorithm": "sha512", "visibility": "public"
                ]
            ]
        ]
        let posted = try fleet.send(
            a, "POST", "/upload", token: token, body: Array(JSONWriter.write(batch).utf8), json: true)
        try #require(posted.status == 200, "\(posted.text)")
        let putURL = try #require(
            try JSONParser.parse(posted.body)["result"]?["files"]?["sdk.tar.gz"]?["put_url"]?.stringValue)
        // The same signed URL (its path and query), sent to B: the secret is shared through the index.
        let target = try APIHarness.target(of: putURL)
        let put = try fleet.send(b, "PUT", target, body: bytes)
        #expect(put.status == 200, "\(put.text)")
        let forged = try fleet.send(
            b, "PUT", target.replacingOccurrences(of: "signature=", with: "signature=0"), body: bytes)
        #expect(forged.status == 403)
        #expect(try fleet.send(c, "GET", "/upload/complete/sha512/\(digest.hex)", token: token).status == 202)

        // Every instance sees the batch and the file it recorded.
        for server in fleet.servers {
            let file = try fleet.send(server, "GET", "/file/sha512/\(digest.hex)", token: token)
            #expect(file.status == 200, "\(file.text)")
            let found = try JSONParser.parse(file.body)["result"]
            #expect(found?["has_instances"] == true)
            #expect(found?["batches"]?.arrayValue?.first?["message"] == "Bug 13 - one store, three servers")
            #expect(try fleet.send(server, "GET", "/sha512/\(digest.hex)").body == bytes)
        }

        // A PATCH on B: A refuses the anonymous GET within 1 s, and reports the new visibility.
        let patch = try fleet.send(
            b, "PATCH", "/file/sha512/\(digest.hex)", token: token,
            body: Array(#"[{"op": "set_visibility", "visibility": "internal"}]"#.utf8), json: true)
        #expect(patch.status == 200, "\(patch.text)")
        #expect(try fleet.waitForAll("/sha512/\(digest.hex)", token: nil, status: 401, seconds: 1).isEmpty)
        let onA = try JSONParser.parse(try fleet.send(a, "GET", "/file/sha512/\(digest.hex)", token: token).body)
        #expect(onA["result"]?["visibility"] == "internal")
    }

    @Test func aPutsAnswerComesAfterItsLeaseEndedSoNoInstanceStillSeesItInFlight() throws {
        let fleet = try Fleet()
        let token = try fleet.token("ops", ["upload.public", "manage"])
        let (b, c) = (fleet.servers[1], fleet.servers[2])
        // A PATCH right after a PUT's 200, on the same server and on another: never 409 "upload in progress".
        var refused: [String] = []
        for round in 0..<20 {
            let bytes = Fixtures.randomBytes(1000 + round)
            let digest = Fixtures.digest(bytes)
            let put = try fleet.send(b, "PUT", "/sha512/\(digest.hex)?visibility=public", token: token, body: bytes)
            try #require(put.status == 200, "\(put.text)")
            let server = round % 2 == 0 ? b : c
            let patch = try fleet.send(
                server, "PATCH", "/file/sha512/\(digest.hex)", token: token,
                body: Array(#"[{"op": "set_visibility", "visibility": "internal"}]"#.utf8), json: true)
            if patch.status != 200 { refused.append("round \(round) on \(server.port): \(patch.status) \(patch.text)") }
        }
        #expect(refused.isEmpty, "\(refused)")
    }

    @Test func anUploadOnOneInstanceIsInFlightForAllUntilItsServerIsKilledAndTheLeaseRunsOut() throws {
        let fleet = try Fleet(arguments: ["--upload-lease", "3"])
        let created = try fleet.command([
            "token", "create", "--user", "bob", "--permission", "upload.public",
            "--permission", "manage"
        ])
        try #require(created.status == 0, "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(try fleet.waitForAll("/file?q=x", token: token, status: 200, seconds: 5).isEmpty)
        let (a, b, c) = (fleet.servers[0], fleet.servers[1], fleet.servers[2])

        // A PUT to A that sends a tenth of its body and then stalls.
        let bytes = Fixtures.randomBytes(100_000)
        let digest = Fixtures.digest(bytes)
        let stalled = try RawHTTPClient(port: a.port)
        stalled.send(
            Array(
                "PUT /sha512/\(digest.hex)?visibility=public HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(bytes.count)\r\n\r\n"
                    .utf8) + Array(bytes.prefix(10_000)))
        let complete = "/upload/complete/sha512/\(digest.hex)"
        #expect(
            eventually(timeout: 5) { (try? fleet.send(b, "GET", complete, token: token).status) == 409 },
            "B sees A's upload in flight")
        let onC = try fleet.send(c, "GET", complete, token: token)
        #expect(onC.status == 409 && onC.header("X-Retry-After") != nil, "\(onC.status) \(onC.text)")
        let patch = try fleet.send(
            c, "PATCH", "/file/sha512/\(digest.hex)", token: token,
            body: Array(#"[{"op": "delete_instances"}]"#.utf8), json: true)
        #expect(patch.status == 409, "\(patch.text)")

        // A dies mid-upload: once its lease runs out (3 s, never renewed again), B and C stop answering 409.
        a.kill9()
        #expect(eventually(timeout: 15) { (try? fleet.send(b, "GET", complete, token: token).status) == 202 })
        #expect(try fleet.send(c, "GET", complete, token: token).status == 202)
        #expect(
            !FileManager.default.fileExists(atPath: "\(fleet.root)/public/sha512/\(digest.hex)"), "nothing half-written"
        )
        // And a finished upload on B ends its lease at once: C answers 202 right after B's 200.
        let put = try fleet.send(b, "PUT", "/sha512/\(digest.hex)?visibility=public", token: token, body: bytes)
        #expect(put.status == 200, "\(put.text)")
        #expect(eventually(timeout: 5) { (try? fleet.send(c, "GET", complete, token: token).status) == 202 })
    }
}
