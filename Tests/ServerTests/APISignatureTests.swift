import Foundation
import Shared
import TestSupport
import Testing

/// Signed `put_url`s: good only as issued and only until they expire.
@Suite struct APISignatureTests {
    @Test func alteredURLsAreRefused() throws {
        let harness = try APIHarness()
        let token = try harness.token("alice", "upload.public", "upload.internal")
        let file = APIFile("a.bin"), other = APIFile("b.bin")
        let batch = try harness.createBatch(token: token, message: "sign", files: [file, other])
        let url = try #require(batch["files"]?["a.bin"]?["put_url"]?.stringValue)
        let otherURL = try #require(batch["files"]?["b.bin"]?["put_url"]?.stringValue)
        var components = try #require(URLComponents(string: url))
        let items = try #require(components.queryItems)
        let expires = try #require(items.first { $0.name == "expires" }?.value.flatMap { Int64($0) })
        let signature = try #require(items.first { $0.name == "signature" }?.value)

        func altered(_ change: (inout [URLQueryItem]) -> Void) -> String {
            var copy = items
            change(&copy)
            components.queryItems = copy
            return components.string!
        }
        let flipped = String(signature.dropLast()) + (signature.hasSuffix("0") ? "1" : "0")
        let cases: [(String, String, [UInt8])] = [
            ("visibility", altered { $0[0].value = "internal" }, file.bytes),
            ("expires", altered { $0[1].value = String(expires + 1) }, file.bytes),
            ("signature", altered { $0[2].value = flipped }, file.bytes),
            ("no signature", altered { $0.remove(at: 2) }, file.bytes),
            // b.bin's own signature on a.bin's URL (and a.bin's on b.bin's): the digest is signed too.
            ("digest", otherURL.replacingOccurrences(of: other.digest.hex, with: file.digest.hex), file.bytes),
            ("digest 2", url.replacingOccurrences(of: file.digest.hex, with: other.digest.hex), other.bytes)
        ]
        for (what, target, body) in cases {
            let response = try harness.put(url: target, body)
            #expect(response.status == 403, "\(what): \(response.status) \(response.text)")
            #expect(harness.errorName(response) == .badSignature, "\(what)")
        }
        for digest in [file.digest, other.digest] {
            #expect(!harness.isStored(digest, .public) && !harness.isStored(digest, .internal))
        }
        // A tampered URL with a valid token still fails: the signature is checked, not ignored.
        let withToken = try harness.send("PUT", try APIHarness.target(of: cases[2].1), token: token, body: file.bytes)
        #expect(withToken.status == 403)

        #expect(try harness.put(url: url, file.bytes).status == 200)
        #expect(harness.isStored(file.digest, .public))
    }

    @Test func expiredURLsAreRefused() throws {
        let harness = try APIHarness(arguments: ["--signed-url-lifetime", "1"])
        let token = try harness.token("alice", "upload.internal")
        let file = APIFile("late.bin", .internal)
        let batch = try harness.createBatch(token: token, message: "too late", files: [file])
        let url = try #require(batch["files"]?["late.bin"]?["put_url"]?.stringValue)
        Thread.sleep(forTimeInterval: 2.2)
        let response = try harness.put(url: url, file.bytes)
        #expect(response.status == 403)
        #expect(harness.errorName(response) == .signatureExpired)
        #expect(!harness.isStored(file.digest, .internal))

        // A fresh batch for the same file hands out a fresh URL that works.
        let again = try harness.createBatch(token: token, message: "again", files: [file])
        let fresh = try #require(again["files"]?["late.bin"]?["put_url"]?.stringValue)
        #expect(try harness.put(url: fresh, file.bytes).status == 200)
        #expect(harness.isStored(file.digest, .internal))
    }
}
