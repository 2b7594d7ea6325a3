import Foundation
import Testing

@testable import Shared

@Suite("Manifest codec")
struct ManifestTests {
    static let digestA = String(repeating: "a", count: 128)
    static let digestB = String(repeating: "0123456789abcdef", count: 8)

    /// Written by Python: `json.dumps(records, indent=2, separators=(",", ": "))`, as tooltool.py does.
    static let tooltoolWritten = """
        [
          {
            "filename": "gcc.tar.xz",
            "size": 1024,
            "algorithm": "sha512",
            "digest": "\(digestA)",
            "unpack": true,
            "version": "gcc 4.7.2",
            "visibility": "internal",
            "setup": "setup.sh",
            "comment": "kept \\u00e9\\ud83d\\ude00 \\u007f",
            "nested": {
              "list": [
                1,
                2.5,
                null,
                false,
                [],
                {}
              ]
            }
          },
          {
            "filename": "plain.bin",
            "size": 0,
            "algorithm": "sha512",
            "digest": "\(digestB)"
          }
        ]
        """

    @Test("a manifest written by tooltool round-trips byte for byte")
    func roundTrip() throws {
        let manifest = try Manifest(parsing: Self.tooltoolWritten)
        #expect(manifest.records.count == 2)
        let first = manifest.records[0]
        #expect(first.filename == "gcc.tar.xz")
        #expect(first.size == 1024)
        #expect(first.unpack)
        #expect(first.version == "gcc 4.7.2")
        #expect(first.visibility == .internal)
        #expect(first.setup == "setup.sh")
        #expect(first.extra.map(\.0) == ["comment", "nested"])
        #expect(first.extra[0].1 == .string("kept é😀 \u{7f}"))
        #expect(manifest.serialized() == Self.tooltoolWritten)
        #expect(!manifest.serialized().hasSuffix("\n"))
    }

    @Test("optional keys are written only when tooltool writes them, in tooltool's order")
    func optionalKeys() throws {
        let digest = try Digest(parsing: Self.digestA)
        let record = ManifestRecord(
            filename: "x", size: 5, digest: digest, unpack: false, version: "", visibility: nil, setup: "")
        #expect(
            Manifest(records: [record]).serialized() == """
                [
                  {
                    "filename": "x",
                    "size": 5,
                    "algorithm": "sha512",
                    "digest": "\(Self.digestA)"
                  }
                ]
                """)
        #expect(Manifest().serialized() == "[]")
    }

    @Test("pub and pvt are read as aliases and written canonically")
    func visibilityAliases() throws {
        let text = """
            [{"filename": "a", "size": 1, "algorithm": "sha512", "digest": "\(Self.digestA)", "visibility": "pvt"},
             {"filename": "b", "size": 1, "algorithm": "sha512", "digest": "\(Self.digestB)", "visibility": "pub"}]
            """
        let manifest = try Manifest(parsing: text)
        #expect(manifest.records.map(\.visibility) == [.internal, .public])
        #expect(manifest.serialized().contains("\"visibility\": \"internal\""))
        #expect(manifest.serialized().contains("\"visibility\": \"public\""))
    }

    static let rejections: [(String, String)] = [
        ("{}", "manifest: must be a JSON array of records, got an object"),
        ("[", "manifest: invalid JSON at byte 1: unexpected end of input"),
        (
            #"[{"filename": "a", "size": -1, "algorithm": "sha512", "digest": "\#(digestA)"}]"#,
            "manifest record 0, field \"size\": must not be negative, got -1"
        ),
        (
            #"[{"filename": "a", "size": "1", "algorithm": "sha512", "digest": "\#(digestA)"}]"#,
            "manifest record 0, field \"size\": must be an integer, got a string"
        ),
        (
            #"[{"filename": "a", "size": 1.5, "algorithm": "sha512", "digest": "\#(digestA)"}]"#,
            "manifest record 0, field \"size\": must be an integer, got a number"
        ),
        (
            #"[{"filename": 7, "size": 1, "algorithm": "sha512", "digest": "\#(digestA)"}]"#,
            "manifest record 0, field \"filename\": must be a string, got a number"
        ),
        (
            #"[{"filename": "a", "size": 1, "algorithm": "sha512", "digest": "\#(digestA)", "digest": "abc"}]"#,
            "manifest record 0, field \"digest\": digest must be 128 lowercase hex characters, got 3"
        ),
        (
            #"[{"filename": "a", "size": 1, "algorithm": "md5", "digest": "\#(digestA)"}]"#,
            "manifest record 0, field \"algorithm\": algorithm must be sha512, got \"md5\""
        ),
        (
            #"[{"filename": "a", "size": 1, "algorithm": "sha512", "digest": "abc"}]"#,
            "manifest record 0, field \"digest\": digest must be 128 lowercase hex characters, got 3"
        ),
        (
            #"[{"filename": "a", "size": 1, "algorithm": "sha512", "digest": "\#(digestA.uppercased())"}]"#,
            "manifest record 0, field \"digest\": digest must be lowercase hex, got \"A\" (uppercase hex) at position 0"
        ),
        (
            #"[{"filename": "../../etc/passwd", "size": 1, "algorithm": "sha512", "digest": "\#(digestA)"}]"#,
            "manifest record 0, field \"filename\": must not contain '/', got \"../../etc/passwd\""
        ),
        (
            #"[{"filename": "a\\b", "size": 1, "algorithm": "sha512", "digest": "\#(digestA)"}]"#,
            "manifest record 0, field \"filename\": must not contain '\\', got \"a\\\\b\""
        ),
        (
            #"[{"filename": "a\u0000b", "size": 1, "algorithm": "sha512", "digest": "\#(digestA)"}]"#,
            "manifest record 0, field \"filename\": must not contain a NUL byte"
        ),
        (
            #"[{"filename": ".", "size": 1, "algorithm": "sha512", "digest": "\#(digestA)"}]"#,
            "manifest record 0, field \"filename\": must not be \".\""
        ),
        (
            #"[{"filename": "..", "size": 1, "algorithm": "sha512", "digest": "\#(digestA)"}]"#,
            "manifest record 0, field \"filename\": must not be \"..\""
        ),
        (
            #"[{"filename": "", "size": 1, "algorithm": "sha512", "digest": "\#(digestA)"}]"#,
            "manifest record 0, field \"filename\": must not be empty"
        ),
        (
            #"[{"filename": "a", "size": 1, "algorithm": "sha512", "digest": "\#(digestA)"}, {"filename": "a", "size": 2, "algorithm": "sha512", "digest": "\#(digestB)"}]"#,
            "manifest record 1, field \"filename\": \"a\" is already record 0 with another digest"
        )
    ]

    /// Members tooltool.py 1.4.0 copes with although they are not of the documented type, each with how it reads
    /// them (Python truthiness for `unpack`, `==` for `size`) and the note the reader gives.
    static let lenient: [(member: String, record: ManifestRecord, note: String)] = {
        let digest = try! Digest(parsing: digestA)
        func record(
            unpack: Bool = false, size: Int64? = 1, version: String? = nil, visibility: Visibility? = nil,
            setup: String? = nil, extra: [(String, JSONValue)] = []
        ) -> ManifestRecord {
            ManifestRecord(
                filename: "a", size: size, digest: digest, unpack: unpack, version: version,
                visibility: visibility, setup: setup, extra: extra)
        }
        return [
            (#""unpack": "True""#, record(unpack: true), #"record 0 (a) "unpack": "True" taken as true"#),
            (#""unpack": "False""#, record(unpack: true), #"record 0 (a) "unpack": "False" taken as true"#),
            (#""unpack": "0""#, record(unpack: true), #"record 0 (a) "unpack": "0" taken as true"#),
            (#""unpack": """#, record(), #"record 0 (a) "unpack": "" taken as false"#),
            (#""unpack": 1"#, record(unpack: true), #"record 0 (a) "unpack": 1 taken as true"#),
            (#""unpack": 0"#, record(), #"record 0 (a) "unpack": 0 taken as false"#),
            (#""unpack": 0.0"#, record(), #"record 0 (a) "unpack": 0.0 taken as false"#),
            (#""unpack": null"#, record(), #"record 0 (a) "unpack": null taken as false"#),
            (#""unpack": []"#, record(), #"record 0 (a) "unpack": [] taken as false"#),
            (#""unpack": {"x": 1}"#, record(unpack: true), #"record 0 (a) "unpack": {"x":1} taken as true"#),
            (
                #""size": null"#, record(size: nil),
                #"record 0 (a) "size": null taken as unknown (only the digest is checked)"#
            ),
            (#""version": 3"#, record(version: "3"), #"record 0 (a) "version": 3 taken as "3""#),
            (#""version": 0"#, record(), #"record 0 (a) "version": 0 taken as no version"#),
            (#""version": null"#, record(), #"record 0 (a) "version": null taken as no version"#),
            (
                #""visibility": "secret""#, record(extra: [("visibility", "secret")]),
                #"record 0 (a) "visibility": "secret" kept as written (neither public nor internal: upload refuses it)"#
            ),
            (#""visibility": null"#, record(), #"record 0 (a) "visibility": null taken as no visibility"#),
            (#""setup": 5"#, record(extra: [("setup", 5)]), #"record 0 (a) "setup": 5 kept as written"#),
            (#""setup": null"#, record(), #"record 0 (a) "setup": null taken as no setup"#)
        ]
    }()

    @Test("members of another type are read as tooltool.py reads them, each with a note", arguments: 0..<lenient.count)
    func lenientMember(index: Int) throws {
        let (member, expected, note) = Self.lenient[index]
        let text = #"[{"filename": "a", "size": 1, "algorithm": "sha512", "digest": "\#(Self.digestA)", \#(member)}]"#
        let reading = try Manifest.reading(Array(text.utf8))
        #expect(reading.manifest == Manifest(records: [expected]))
        #expect(reading.notes.map(\.description) == [note])
        let rewritten = reading.manifest.serialized()
        #expect(try Manifest.reading(Array(rewritten.utf8)).manifest == reading.manifest, "stable once written")
        #expect(!rewritten.contains("\"unpack\": false") && !rewritten.contains("\"unpack\": \""))
    }

    @Test("sizes Python's == equates with an integer are taken as that integer")
    func lenientSizes() throws {
        for (size, value) in [("1024.0", Int64(1024)), ("1e3", 1000), ("true", 1), ("false", 0)] {
            let text = #"[{"filename": "a", "size": \#(size), "algorithm": "sha512", "digest": "\#(Self.digestA)"}]"#
            let reading = try Manifest.reading(Array(text.utf8))
            #expect(reading.manifest.records.map(\.size) == [value])
            #expect(
                reading.notes.map(\.description) == [
                    "record 0 (a) \"size\": \(size == "1e3" ? "1000.0" : size) taken as \(value)"
                ])
        }
    }

    @Test("elements tooltool.py's decoder drops are skipped with a note; duplicate keys keep the last value")
    func skippedElements() throws {
        let text = """
            [1, "x", null, [], {"filename": "b", "size": 1, "algorithm": "sha512"}, {"size": 1},
             {"filename": "a", "size": 2, "size": 1, "algorithm": "sha512", "digest": "\(Self.digestA)"}]
            """
        let reading = try Manifest.reading(Array(text.utf8))
        #expect(reading.manifest.records.map(\.filename) == ["a"])
        #expect(reading.manifest.records.map(\.size) == [1])
        #expect(
            reading.notes.map(\.description) == [
                "record 0 skipped: not an object but a number", "record 1 skipped: not an object but a string",
                "record 2 skipped: not an object but null", "record 3 skipped: not an object but an array",
                "record 4 (b) skipped: no \"digest\"", "record 5 skipped: no \"filename\", \"algorithm\", \"digest\""
            ])
        #expect(
            try Manifest.reading(Array(Self.tooltoolWritten.utf8)).notes.isEmpty,
            "a manifest tooltool writes has no notes")
    }

    @Test("every rejection names the record and the field", arguments: 0..<rejections.count)
    func rejection(index: Int) {
        let (text, message) = Self.rejections[index]
        #expect {
            _ = try Manifest(parsing: text)
        } throws: { error in
            (error as? ManifestError)?.description == message
        }
    }

    @Test("byte-identical to Python's json.dumps on random manifests", .enabled(if: PythonWriter.available))
    func matchesPython() throws {
        for _ in 0..<20 {
            var records: [ManifestRecord] = []
            for i in 0..<Int.random(in: 0...6) {
                let name = randomName() + "\(i)"
                records.append(
                    ManifestRecord(
                        filename: name, size: Int64.random(in: 0...Int64(1) << 40),
                        digest: StreamingHasher.digest(of: name), unpack: Bool.random(),
                        version: Bool.random() ? randomName() : nil,
                        visibility: [nil, .public, .internal].randomElement()!,
                        setup: Bool.random() ? randomName() : nil,
                        extra: Bool.random()
                            ? [("note", .string(randomName() + "\\")), ("n", .array([.int(-3), .double(0.25), .null]))]
                            : []))
            }
            let ours = Manifest(records: records).serialized()
            let theirs = try PythonWriter.rewrite(ours)
            #expect(ours == theirs)
            #expect(try Manifest(parsing: ours) == Manifest(records: records))
        }
    }

    private func randomName() -> String {
        let alphabet = Array("abcXYZ09 _-.é中😀\"\t\u{7f}")
        return String((0..<Int.random(in: 1...12)).map { _ in alphabet.randomElement()! })
    }
}

/// Runs the real Python writer tooltool uses, so the comparison is against the reference, not our idea of it.
enum PythonWriter {
    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") }

    static func rewrite(_ text: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "-c",
            "import json,sys; sys.stdout.write(json.dumps(json.loads(sys.stdin.read()), indent=2, separators=(',', ': ')))"
        ]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
