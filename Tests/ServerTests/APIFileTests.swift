import Foundation
import Shared
import TestSupport
import Testing

/// `GET` and `PATCH /file/sha512/<digest>`: switching visibility, deleting instances, and re-uploading.
@Suite struct APIFileTests {
    @Test func visibilitySwitchMovesTheBlob() throws {
        let harness = try APIHarness()
        let admin = try harness.token("admin", "upload.public", "manage", "download.internal")
        let file = APIFile("tool.tar.gz")
        try harness.upload(token: admin, message: "public tool", files: [file])
        let blob = "/sha512/\(file.digest.hex)"
        #expect(try harness.send("GET", blob).status == 200)

        let patch = try harness.send(
            "PATCH", "/file/sha512/\(file.digest.hex)", token: admin,
            json: [["op": "set_visibility", "visibility": "internal"]])
        #expect(patch.status == 200, "\(patch.text)")
        let result = try #require(try harness.json(patch)["result"])
        #expect(result["visibility"] == "internal")
        #expect(result["has_instances"] == true)
        #expect(result["size"] == .int(Int64(file.bytes.count)))
        #expect(result["batches"]?.arrayValue?.first?["filename"] == "tool.tar.gz")
        #expect(harness.isStored(file.digest, .internal) && !harness.isStored(file.digest, .public))

        let anonymous = try harness.send("GET", blob)
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate") == "Bearer realm=\"tooltool\"")
        #expect(try harness.send("GET", blob, token: admin).status == 200)
        let read = try harness.json(try harness.send("GET", "/file/sha512/\(file.digest.hex)", token: admin))
        #expect(read["result"]?["visibility"] == "internal")

        let back = try harness.send(
            "PATCH", "/file/sha512/\(file.digest.hex)", token: admin,
            json: [["op": "set_visibility", "visibility": "public"]])
        #expect(back.status == 200)
        #expect(try harness.send("GET", blob).status == 200)
        #expect(harness.isStored(file.digest, .public) && !harness.isStored(file.digest, .internal))
    }

    @Test func deleteInstancesKeepsHistoryAndReuploadRestores() throws {
        let harness = try APIHarness()
        let admin = try harness.token("admin", "upload.internal", "manage", "download.internal")
        let file = APIFile("secret.bin", .internal)
        let first = try harness.upload(token: admin, message: "first", files: [file])

        let patch = try harness.send(
            "PATCH", "/file/sha512/\(file.digest.hex)", token: admin, json: [["op": "delete_instances"]])
        #expect(patch.status == 200, "\(patch.text)")
        #expect(try harness.json(patch)["result"]?["has_instances"] == false)
        #expect(!harness.isStored(file.digest, .internal) && !harness.isStored(file.digest, .public))
        #expect(try harness.send("GET", "/sha512/\(file.digest.hex)", token: admin).status == 404)

        let record = try harness.json(try harness.send("GET", "/file/sha512/\(file.digest.hex)", token: admin))
        #expect(record["result"]?["has_instances"] == false)
        #expect(record["result"]?["batches"]?.arrayValue?.first?["id"] == first["id"])
        #expect(try harness.send("GET", "/upload/\(first["id"]!.intValue!)", token: admin).status == 200)

        // Deleting again is harmless.
        #expect(
            try harness.send(
                "PATCH", "/file/sha512/\(file.digest.hex)", token: admin,
                json: [["op": "delete_instances"]]
            ).status == 200)

        let again = try harness.createBatch(token: admin, message: "restore", files: [file])
        let url = try #require(
            again["files"]?["secret.bin"]?["put_url"]?.stringValue, "a deleted file needs a new upload")
        #expect(try harness.put(url: url, file.bytes).status == 200)
        #expect(harness.stored.bytes(file.digest, .internal) == file.bytes)
        #expect(try harness.send("GET", "/sha512/\(file.digest.hex)", token: admin).status == 200)
        let restored = try harness.json(try harness.send("GET", "/file/sha512/\(file.digest.hex)", token: admin))
        #expect(restored["result"]?["has_instances"] == true)
        #expect(restored["result"]?["batches"]?.arrayValue?.count == 2)
    }

    @Test func patchIsValidated() throws {
        let harness = try APIHarness()
        let admin = try harness.token("admin", "upload.public", "manage")
        let uploader = try harness.token("uploader", "upload.public", "download.internal")
        let file = APIFile("a.bin")
        try harness.upload(token: admin, message: "m", files: [file])
        let path = "/file/sha512/\(file.digest.hex)"

        let cases: [(JSONValue, APIErrorName)] = [
            ([["op": "explode"]], .badOperation),
            ([["op": "set_visibility", "visibility": "secret"]], .badVisibility),
            ([["op": "set_visibility"]], .badVisibility),
            ([["visibility": "public"]], .badRequest),
            (["op": "delete_instances"], .badRequest),
            ([5], .badRequest)
        ]
        for (body, name) in cases {
            let response = try harness.send("PATCH", path, token: admin, json: body)
            #expect(response.status == 400, "\(JSONWriter.write(body)): \(response.status)")
            #expect(harness.errorName(response) == name, "\(JSONWriter.write(body)): \(response.text)")
        }
        // A bad operation later in the list means none is applied.
        let mixed = try harness.send("PATCH", path, token: admin, json: [["op": "delete_instances"], ["op": "nope"]])
        #expect(mixed.status == 400)
        #expect(harness.isStored(file.digest, .public))

        let unknown = APIFile("never-uploaded.bin")
        #expect(
            try harness.send(
                "PATCH", "/file/sha512/\(unknown.digest.hex)", token: admin,
                json: [["op": "delete_instances"]]
            ).status == 404)
        #expect(try harness.send("GET", "/file/sha512/\(unknown.digest.hex)", token: admin).status == 404)
        let badDigest = try harness.send("PATCH", "/file/sha512/ABC", token: admin, json: [["op": "delete_instances"]])
        #expect(badDigest.status == 400)
        #expect(harness.errorName(badDigest) == .badDigest)

        let forbidden = try harness.send("PATCH", path, token: uploader, json: [["op": "delete_instances"]])
        #expect(forbidden.status == 403)
        #expect(harness.errorName(forbidden) == .forbidden)
        #expect(try harness.send("PATCH", path, json: [["op": "delete_instances"]]).status == 401)
        #expect(harness.isStored(file.digest, .public))

        let wrongMethod = try harness.send("DELETE", path, token: admin)
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.header("Allow") == "GET, HEAD, PATCH")
    }
}
