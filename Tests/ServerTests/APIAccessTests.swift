import Foundation
import Shared
import TestSupport
import Testing

/// Who may do what through the batch and file API, and what stays hidden from tokens without download.internal.
@Suite struct APIAccessTests {
    @Test func permissionFailures() throws {
        let harness = try APIHarness()
        let publicUploader = try harness.token("pub", "upload.public", "download.internal")
        let downloader = try harness.token("reader", "download.public")
        let revoked = try harness.token("gone", "upload.public", "upload.internal", "manage")
        try harness.revokeTokens(of: "gone", token: revoked)
        let internalFile = APIFile("i.bin", .internal), publicFile = APIFile("p.bin")

        // upload.public cannot upload an internal file, even next to a public one; nothing is recorded.
        let mixed = try harness.send(
            "POST", "/upload", token: publicUploader,
            json: APIHarness.batch("mixed", [publicFile, internalFile]))
        #expect(mixed.status == 403)
        #expect(harness.errorName(mixed) == .forbidden)
        #expect(mixed.text.contains("upload.internal"))
        let listed = try harness.json(try harness.send("GET", "/upload", token: publicUploader))
        #expect(listed["result"] == [])

        // No upload permission at all: refused from the head.
        let reader = try harness.send("POST", "/upload", token: downloader, json: APIHarness.batch("m", [publicFile]))
        #expect(reader.status == 403)

        for token in [nil, revoked] {
            let post = try harness.send("POST", "/upload", token: token, json: APIHarness.batch("m", [publicFile]))
            #expect(post.status == 401)
            #expect(post.header("WWW-Authenticate") == "Bearer realm=\"tooltool\"")
            #expect(harness.errorName(post) == .unauthorized)
            for path in [
                "/upload", "/upload?q=x", "/upload/1", "/upload/1/manifest", "/file?q=p",
                "/file/sha512/\(publicFile.digest.hex)", "/upload/complete/sha512/\(publicFile.digest.hex)"
            ] {
                let read = try harness.send("GET", path, token: token)
                #expect(read.status == 401, "\(path) with \(token == nil ? "no token" : "a revoked token")")
            }
        }
        // The same batch with a good token works (so the refusals above were about permissions).
        #expect(
            try harness.send("POST", "/upload", token: publicUploader, json: APIHarness.batch("m", [publicFile])).status
                == 200)
    }

    @Test func internalFilesAndTheirBatchesAreHidden() throws {
        let harness = try APIHarness()
        let admin = try harness.token("admin", "upload.public", "upload.internal", "download.internal", "manage")
        let reader = try harness.token("reader", "download.public")
        let pub = APIFile("pub.bin"), pub2 = APIFile("pub2.bin"), secret = APIFile("secret.bin", .internal)
        let later = APIFile("later.bin")
        let a = try #require(try harness.upload(token: admin, message: "A public", files: [pub])["id"]?.intValue)
        let b = try #require(
            try harness.upload(token: admin, message: "B mixed", files: [pub2, secret])["id"]?.intValue)
        let c = try #require(try harness.upload(token: admin, message: "C switched", files: [later])["id"]?.intValue)
        #expect(
            try harness.send(
                "PATCH", "/file/sha512/\(later.digest.hex)", token: admin,
                json: [["op": "set_visibility", "visibility": "internal"]]
            ).status == 200)

        func ids(_ token: String) throws -> [Int64] {
            try harness.json(try harness.send("GET", "/upload", token: token))["result"]?.arrayValue?
                .compactMap { $0["id"]?.intValue } ?? []
        }
        func digests(_ query: String, _ token: String) throws -> Set<String> {
            let files =
                try harness.json(try harness.send("GET", "/file?q=\(query)", token: token))["result"]?.arrayValue ?? []
            return Set(files.compactMap { $0["digest"]?.stringValue })
        }
        #expect(try ids(reader) == [a])
        #expect(try ids(admin) == [c, b, a])
        for id in [b, c] {
            #expect(try harness.send("GET", "/upload/\(id)", token: reader).status == 404)
            #expect(try harness.send("GET", "/upload/\(id)/manifest", token: reader).status == 404)
            #expect(try harness.send("GET", "/upload/\(id)", token: admin).status == 200)
        }
        #expect(try digests(".bin", reader) == [pub.digest.hex, pub2.digest.hex])
        #expect(try digests(".bin", admin) == Set([pub, pub2, secret, later].map(\.digest.hex)))
        #expect(try digests(String(secret.digest.hex.prefix(16)), reader).isEmpty)
        #expect(try harness.send("GET", "/file/sha512/\(secret.digest.hex)", token: reader).status == 404)
        #expect(try harness.send("GET", "/file/sha512/\(secret.digest.hex)", token: admin).status == 200)

        // pub2 is public, but the batch that named it also named an internal file: that batch is not listed.
        let pub2Record = try harness.json(try harness.send("GET", "/file/sha512/\(pub2.digest.hex)", token: reader))
        #expect(pub2Record["result"]?["batches"] == [])
        let pub2Admin = try harness.json(try harness.send("GET", "/file/sha512/\(pub2.digest.hex)", token: admin))
        #expect(pub2Admin["result"]?["batches"]?.arrayValue?.first?["id"] == .int(b))
    }
}
