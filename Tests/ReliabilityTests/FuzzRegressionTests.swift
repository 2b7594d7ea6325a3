import Foundation
import Shared
import TestSupport
import Testing

/// Replays every input under `fuzz/regressions/<target>/` (crashes found by `fuzz/run`, kept once fixed) and the
/// seed corpora under `fuzz/corpus/<target>/seed-*` with the property each fuzz target checks. Shared's parsers
/// run in-process; the route and signed-URL inputs go to a real server, which must answer and keep serving.
@Suite struct FuzzRegressionTests {
    static let fuzzFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz").path

    /// The saved inputs of `target`: its regressions and its seeds.
    static func inputs(_ target: String) -> [(String, [UInt8])] {
        var found: [(String, [UInt8])] = []
        for (folder, keep) in [
            ("regressions", { (_: String) in true }), ("corpus", { (name: String) in name.hasPrefix("seed-") })
        ] {
            let path = "\(fuzzFolder)/\(folder)/\(target)"
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            where keep(name) && !name.hasPrefix(".") {
                if let bytes = Fixtures.read("\(path)/\(name)") { found.append(("\(folder)/\(target)/\(name)", bytes)) }
            }
        }
        return found
    }

    @Test func manifestInputs() throws {
        let inputs = Self.inputs("manifest")
        #expect(!inputs.isEmpty, "seeds under \(Self.fuzzFolder)")
        for (name, bytes) in inputs {
            // `seed-real-*` are shapes found in Mozilla's repositories, which tooltool.py 1.4.0 reads: so must we.
            if name.contains("/seed-real-") { #expect(throws: Never.self, "\(name)") { try Manifest(parsing: bytes) } }
            guard let manifest = try? Manifest(parsing: bytes) else { continue }
            #expect(try Manifest(parsing: manifest.serialized()) == manifest, "\(name)")
        }
    }

    @Test func jsonInputs() throws {
        let inputs = Self.inputs("json")
        #expect(!inputs.isEmpty)
        for (name, bytes) in inputs {
            guard let value = try? JSONParser.parse(bytes) else { continue }
            let text = JSONWriter.write(value)
            #expect(JSONWriter.write(try JSONParser.parse(text)) == text, "\(name)")
        }
    }

    /// Percent-encodes what may not appear in a request-target, so each input is one well-formed request line.
    static func target(_ bytes: [UInt8]) -> String {
        var text = bytes.first == UInt8(ascii: "/") ? "" : "/"
        for byte in bytes {
            if byte > 0x20 && byte < 0x7f && byte != UInt8(ascii: "#") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return text
    }

    @Test func routeAndSignedURLInputsAgainstARealServer() throws {
        let store = try Store(tokens: ["up": [.uploadPublic]], arguments: ["--header-timeout", "5"])
        let blob = Fixtures.randomBytes(1000)
        #expect(try store.put(blob, user: "up").status == 200)
        let routes = Self.inputs("route"), signed = Self.inputs("signedurl")
        #expect(!routes.isEmpty && !signed.isEmpty)
        let digest = Fixtures.digest(Fixtures.randomBytes(10))
        for (name, bytes) in routes {
            let response = try store.request("GET", Self.target(bytes))
            #expect((200..<500).contains(response.status), "\(name): \(response.statusLine)")
            if response.status >= 400 { #expect(response.isJSONError, "\(name): \(response.text)") }
            #expect(store.serves(blob), "\(name)")
        }
        for (name, bytes) in signed {
            let query = String(Self.target(bytes).dropFirst())
            let response = try store.request("PUT", "/sha512/\(digest.hex)?\(query)", body: Array("0123456789".utf8))
            #expect(
                (400..<500).contains(response.status) && response.isJSONError,
                "\(name): \(response.statusLine) \(response.text)")
            #expect(store.serves(blob), "\(name)")
        }
    }
}

extension String {
    /// The string with zeros in front up to `width` characters.
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
