import Foundation
import Shared
import TestSupport
import Testing

/// The tooltool upload flow end to end: batch, PUT to each `put_url`, complete, and reading the batch back.
@Suite struct APIUploadFlowTests {
    @Test func batchPutCompleteAndReadBack() throws {
        let harness = try APIHarness()
        let token = try harness.token("alice@example.com", "upload.public", "upload.internal", "download.internal")
        let files = [APIFile("a.tar.xz", size: 1500, .public), APIFile("b.zip", size: 700, .internal)]

        let batch = try harness.createBatch(token: token, message: "Bug 1 - toolchains", files: files)
        let id = try #require(batch["id"]?.intValue)
        #expect(batch["author"] == "alice@example.com")
        #expect(batch["message"] == "Bug 1 - toolchains")
        let uploaded = try #require(batch["uploaded"]?.stringValue)
        #expect(uploaded.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil, "uploaded: \(uploaded)")
        for file in files {
            let entry = try #require(batch["files"]?[file.name])
            #expect(entry["size"] == .int(Int64(file.bytes.count)))
            #expect(entry["digest"] == .string(file.digest.hex))
            #expect(entry["algorithm"] == "sha512")
            #expect(entry["visibility"] == .string(file.visibility.rawValue))
            let url = try #require(entry["put_url"]?.stringValue)
            #expect(
                url.hasPrefix(
                    "http://127.0.0.1:\(harness.server.port)/sha512/\(file.digest.hex)?visibility=\(file.visibility.rawValue)&expires="
                ))
            #expect(url.contains("&signature="))
            #expect(!harness.isStored(file.digest, file.visibility))

            let put = try harness.put(url: url, file.bytes)
            #expect(put.status == 200, "\(put.text)")
            #expect(harness.stored.bytes(file.digest, file.visibility) == file.bytes)
            #expect(!harness.isStored(file.digest, file.visibility.other))

            let complete = try harness.send("GET", "/upload/complete/sha512/\(file.digest.hex)", token: token)
            #expect(complete.status == 202)
            #expect(complete.text == "{}")
            #expect(complete.header("Content-Type") == "application/json")
        }

        // Stored now: a second batch naming the same files gets no put_url.
        let again = try harness.createBatch(token: token, message: "Bug 2 - same files", files: files)
        for file in files { #expect(again["files"]?[file.name]?["put_url"] == nil) }
        #expect(again["id"]?.intValue == id + 1)

        let read = try harness.send("GET", "/upload/\(id)", token: token)
        #expect(read.status == 200)
        let readBatch = try #require(try harness.json(read)["result"])
        #expect(readBatch["id"] == .int(id))
        #expect(readBatch["uploaded"] == .string(uploaded))
        #expect(readBatch["files"]?["a.tar.xz"]?["put_url"] == nil)
        #expect(readBatch["files"]?["b.zip"]?["digest"] == .string(files[1].digest.hex))

        // The manifest, byte for byte as tooltool.py writes it (json.dumps, indent 2), records sorted by filename.
        let manifest = try harness.send("GET", "/upload/\(id)/manifest", token: token)
        #expect(manifest.status == 200)
        let expected =
            "[\n"
            + files.map { file in
                "  {\n    \"filename\": \"\(file.name)\",\n    \"size\": \(file.bytes.count),\n    \"algorithm\": \"sha512\",\n"
                    + "    \"digest\": \"\(file.digest.hex)\",\n    \"visibility\": \"\(file.visibility.rawValue)\"\n  }"
            }.joined(separator: ",\n") + "\n]"
        #expect(manifest.text == expected)
        let parsed = try Manifest(parsing: manifest.body)
        #expect(parsed.records.map(\.filename) == ["a.tar.xz", "b.zip"])
        #expect(parsed.records.map(\.visibility) == [.public, .internal])

        #expect(try harness.send("GET", "/upload/\(id + 10)", token: token).status == 404)
        #expect(try harness.send("GET", "/upload/\(id + 10)/manifest", token: token).status == 404)
    }

    /// POST /upload first settles the index against the store, reading the records of all its files at once: a blob
    /// removed by hand may be declared anew, one copied in by hand is held to its size on disk.
    @Test func aBatchIsCheckedAgainstBlobsCopiedInAndRemovedByHand() throws {
        let harness = try APIHarness()
        let token = try harness.token("alice@example.com", "upload.public", "upload.internal", "download.internal")
        let removed = APIFile("removed.bin", size: 400, .public)
        _ = try harness.upload(token: token, message: "first", files: [removed])
        try harness.stored.remove(removed.digest, .public)
        let copied = APIFile("copied.bin", size: 300, .internal)
        try harness.stored.put(copied.bytes, .internal)
        let fresh = (0..<200).map { APIFile("fresh-\($0).tar.xz", size: 100 + $0, $0 % 2 == 0 ? .public : .internal) }

        // Gone from the store: a new size is a new declaration, and the file needs a PUT again.
        let redeclared: JSONValue = [
            "size": .int(401), "digest": .string(removed.digest.hex), "algorithm": "sha512",
            "visibility": "public"
        ]
        let files: [(String, JSONValue)] = [("removed.bin", redeclared)] + fresh.map { ($0.name, $0.entry) }
        let again = try harness.send(
            "POST", "/upload", token: token,
            json: ["message": "second", "files": .object(files)])
        #expect(again.status == 200, "\(again.text)")
        let result = try #require(try harness.json(again)["result"])
        #expect(result["files"]?["removed.bin"]?["put_url"]?.stringValue != nil)
        for file in fresh { #expect(result["files"]?[file.name]?["put_url"]?.stringValue != nil) }

        // Copied in by hand: stored now, so a wrong size is refused and the right one needs no PUT.
        let wrong: JSONValue = [
            "size": .int(299), "digest": .string(copied.digest.hex), "algorithm": "sha512",
            "visibility": "internal"
        ]
        let refused = try harness.send(
            "POST", "/upload", token: token,
            json: ["message": "third", "files": .object([("copied.bin", wrong)])])
        #expect(refused.status == 400)
        #expect(harness.errorName(refused) == .sizeConflict)
        let accepted = try harness.createBatch(token: token, message: "fourth", files: [copied] + fresh)
        #expect(accepted["files"]?["copied.bin"]?["put_url"] == nil)
        for file in fresh { #expect(accepted["files"]?[file.name]?["put_url"]?.stringValue != nil) }
    }

    @Test func completeAnswers409WhileAPutIsInFlight() throws {
        let harness = try APIHarness()
        let token = try harness.token("alice", "upload.public")
        let file = APIFile("big.bin", size: 200_000)
        let batch = try harness.createBatch(token: token, message: "in flight", files: [file])
        let url = try #require(batch["files"]?["big.bin"]?["put_url"]?.stringValue)

        let uploader = try RawHTTPClient(port: harness.server.port)
        let head =
            "PUT \(try APIHarness.target(of: url)) HTTP/1.1\r\nHost: 127.0.0.1:\(harness.server.port)\r\n"
            + "Content-Length: \(file.bytes.count)\r\n\r\n"
        #expect(uploader.send(Array(head.utf8) + file.bytes.prefix(100_000)))

        var busy: RawHTTPResponse?
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let answer = try harness.send("GET", "/upload/complete/sha512/\(file.digest.hex)", token: token)
            if answer.status == 409 { busy = answer; break }
            usleep(20_000)
        }
        let conflict = try #require(busy, "complete never answered 409 during the PUT")
        let retry = try #require(conflict.header("X-Retry-After"))
        #expect((Int(retry) ?? 0) >= 1, "X-Retry-After: \(retry)")
        #expect(harness.errorName(conflict) == .uploadInProgress)

        #expect(uploader.send(Array(file.bytes.dropFirst(100_000))))
        let put = try uploader.readResponse()
        #expect(put.status == 200, "\(put.text)")
        let done = try harness.send("GET", "/upload/complete/sha512/\(file.digest.hex)", token: token)
        #expect(done.status == 202)
        #expect(harness.isStored(file.digest, .public))
    }

    @Test func searchListsNewestFirst() throws {
        let harness = try APIHarness()
        let alice = try harness.token("alice@example.com", "upload.public")
        let bob = try harness.token("bob@example.com", "upload.public")
        let gcc = APIFile("gcc-13.tar.xz"), clang = APIFile("clang-17.tar.xz"), gcc14 = APIFile("gcc-14.tar.xz")
        let first = try harness.upload(token: alice, message: "Bug 10 - gcc 13", files: [gcc])
        let second = try harness.upload(token: alice, message: "Bug 11 - clang 17", files: [clang])
        let third = try harness.upload(token: bob, message: "Bug 12 - gcc 14", files: [gcc14])
        let ids = try [first, second, third].map { try #require($0["id"]?.intValue) }

        func batchIDs(_ query: String) throws -> [Int64] {
            let response = try harness.send("GET", "/upload?q=\(query)", token: alice)
            #expect(response.status == 200)
            return try #require(try harness.json(response)["result"]?.arrayValue).compactMap { $0["id"]?.intValue }
        }
        #expect(try batchIDs("gcc") == [ids[2], ids[0]])
        #expect(try batchIDs("Bug") == [ids[2], ids[1], ids[0]])
        #expect(try batchIDs("bob%40example") == [ids[2]])
        #expect(try batchIDs("CLANG") == [ids[1]])
        #expect(try batchIDs("nothing-like-this") == [])
        #expect(try batchIDs("") == [ids[2], ids[1], ids[0]])

        func fileDigests(_ query: String) throws -> [String] {
            let response = try harness.send("GET", "/file?q=\(query)", token: alice)
            #expect(response.status == 200)
            let files = try #require(try harness.json(response)["result"]?.arrayValue)
            for file in files {
                #expect(file["has_instances"] == true)
                #expect(file["algorithm"] == "sha512")
            }
            return files.compactMap { $0["digest"]?.stringValue }
        }
        #expect(try fileDigests("gcc-") == [gcc14.digest.hex, gcc.digest.hex])
        #expect(try fileDigests(String(clang.digest.hex.prefix(12))) == [clang.digest.hex])
        #expect(try fileDigests("no-such-file") == [])
    }

    @Test func putURLsAlwaysCarryAPort() throws {
        let harness = try APIHarness()
        let token = try harness.token("alice", "upload.public")
        let file = APIFile("x.bin")
        let response = try harness.send(
            "POST", "/upload", token: token, json: APIHarness.batch("m", [file]), host: "127.0.0.1")
        let url = try harness.json(response)["result"]?["files"]?["x.bin"]?["put_url"]?.stringValue
        #expect(url?.hasPrefix("http://127.0.0.1:80/sha512/\(file.digest.hex)?") == true, "\(url ?? "none")")

        let proxied = try APIHarness(arguments: ["--public-url", "https://tooltool.example.com/tt/"])
        let proxiedToken = try proxied.token("alice", "upload.public")
        let batch = try proxied.createBatch(token: proxiedToken, message: "m", files: [file])
        let proxiedURL = batch["files"]?["x.bin"]?["put_url"]?.stringValue
        #expect(
            proxiedURL?.hasPrefix("https://tooltool.example.com:443/tt/sha512/\(file.digest.hex)?visibility=public&")
                == true,
            "\(proxiedURL ?? "none")")
    }
}
