/// Reading a manifest as tooltool.py 1.4.0 reads it.
///
/// Each member tooltool.py reads is accepted in every form tooltool.py copes with, and read the way Python reads it:
/// `unpack` by truthiness (so `"True"`, `"False"`, `1` unpack and `""`, `0`, `null` do not), `version`, `setup` and
/// `visibility` as any value (tooltool.py's fetch never looks at them), `size` as anything Python's `==` equates with
/// an integer (`1024.0`, `true`) or `null` (no size check), duplicate keys with the last one winning; an element that is not an object or lacks
/// `filename`, `size`, `algorithm` or `digest` is skipped, as tooltool.py's decoder drops it. Each such departure from
/// the documented types is reported as a `ManifestNote`. What tooltool.py cannot cope with either (a filename that is
/// not a bare name, a digest or size it could never verify, another algorithm) is refused with a `ManifestError`.
extension Manifest {
    /// The members every record must have; an element without all of them is skipped, as tooltool.py does.
    static let requiredKeys = ["filename", "size", "algorithm", "digest"]
    /// Keys with a meaning; anything else is kept verbatim in `ManifestRecord.extra`.
    static let knownKeys: Set<String> = [
        "filename", "size", "algorithm", "digest", "unpack", "version", "visibility", "setup"
    ]

    /// Parses `bytes` and returns the manifest with what was read leniently (empty for a manifest tooltool writes).
    public static func reading(
        _ bytes: some Collection<UInt8>
    ) throws(ManifestError) -> (manifest: Manifest, notes: [ManifestNote]) {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes, duplicateKeys: .keepLast)
        } catch {
            throw ManifestError(record: nil, field: nil, reason: error.description)
        }
        guard let elements = document.arrayValue else {
            throw ManifestError(
                record: nil, field: nil, reason: "must be a JSON array of records, got \(document.typeName)")
        }
        var records: [ManifestRecord] = []
        var notes: [ManifestNote] = []
        var byName: [String: (element: Int, position: Int)] = [:]
        for (index, element) in elements.enumerated() {
            guard let record = try Manifest.record(element, index: index, notes: &notes) else { continue }
            if let first = byName[record.filename], records[first.position].digest != record.digest {
                throw ManifestError(
                    record: index, field: "filename",
                    reason: "\(record.filename.debugDescription) is already record \(first.element) with another digest"
                )
            }
            byName[record.filename] = byName[record.filename] ?? (index, records.count)
            records.append(record)
        }
        return (Manifest(records: records), notes)
    }

    /// The record at `index`, nil when tooltool.py would skip it (with a note saying why).
    private static func record(
        _ value: JSONValue, index: Int, notes: inout [ManifestNote]
    ) throws(ManifestError) -> ManifestRecord? {
        func fail(_ field: String?, _ reason: String) -> ManifestError {
            ManifestError(record: index, field: field, reason: reason)
        }
        guard let members = value.objectValue else {
            notes.append(
                ManifestNote(
                    record: index, filename: nil, kind: .skipped(reason: "not an object but \(value.typeName)")))
            return nil
        }
        let missing = requiredKeys.filter { value[$0] == nil }
        guard missing.isEmpty else {
            let names = missing.map { "\"\($0)\"" }.joined(separator: ", ")
            notes.append(
                ManifestNote(
                    record: index, filename: value["filename"]?.stringValue,
                    kind: .skipped(reason: "no \(names)")))
            return nil
        }
        guard let filename = value["filename"]!.stringValue else {
            throw fail("filename", "must be a string, got \(value["filename"]!.typeName)")
        }
        if let problem = ManifestRecord.filenameProblem(filename) { throw fail("filename", problem) }
        func note(_ member: String, _ found: JSONValue, _ readAs: String) {
            notes.append(.member(index, filename, member, found, readAs: readAs))
        }

        // tooltool.py checks `size is None or size == os.path.getsize(...)`.
        let sizeValue = value["size"]!
        var size: Int64?
        if sizeValue == .null {
            note("size", sizeValue, "taken as unknown (only the digest is checked)")
        } else {
            guard let integer = sizeValue.pythonIntegerValue else {
                throw fail("size", "must be an integer, got \(sizeValue.typeName)")
            }
            guard integer >= 0 else { throw fail("size", "must not be negative, got \(integer)") }
            if sizeValue.intValue == nil { note("size", sizeValue, "taken as \(integer)") }
            size = integer
        }

        guard let algorithmName = value["algorithm"]!.stringValue else {
            throw fail("algorithm", "must be a string, got \(value["algorithm"]!.typeName)")
        }
        let algorithm: HashAlgorithm
        do { algorithm = try HashAlgorithm(name: algorithmName) } catch { throw fail("algorithm", error.description) }

        guard let digestText = value["digest"]!.stringValue else {
            throw fail("digest", "must be a string, got \(value["digest"]!.typeName)")
        }
        let digest: Digest
        do { digest = try Digest(parsing: digestText, algorithm: algorithm) } catch {
            throw fail("digest", error.description)
        }

        // `if f.unpack:` in tooltool.py.
        var unpack = false
        if let member = value["unpack"] {
            unpack = member.pythonTruth
            if member.boolValue == nil { note("unpack", member, "taken as \(unpack)") }
        }
        // tooltool.py writes `version` back only when truthy and never reads it otherwise.
        var version: String?
        if let member = value["version"] {
            if let string = member.stringValue {
                version = string
            } else if member.pythonTruth {
                version = JSONWriter.write(member)
                note("version", member, "taken as \(version!.debugDescription)")
            } else {
                note("version", member, "taken as no version")
            }
        }
        // Kept verbatim (in `extra`) when it is not a string: tooltool.py 1.4.0 never reads `setup`.
        var setup: String?
        var keptVerbatim: Set<String> = []
        if let member = value["setup"] {
            if let string = member.stringValue {
                setup = string
            } else if member == .null {
                note("setup", member, "taken as no setup")
            } else {
                keptVerbatim.insert("setup")
                note("setup", member, "kept as written")
            }
        }
        // tooltool.py's fetch never looks at `visibility`; one it would send to a server as is stays as written,
        // and `upload` refuses it.
        var visibility: Visibility?
        if let member = value["visibility"] {
            if let name = member.stringValue, let parsed = Visibility(name: name) {
                visibility = parsed
            } else if member == .null {
                note("visibility", member, "taken as no visibility")
            } else {
                keptVerbatim.insert("visibility")
                note("visibility", member, "kept as written (neither public nor internal: upload refuses it)")
            }
        }
        return ManifestRecord(
            filename: filename, size: size, digest: digest, unpack: unpack, version: version,
            visibility: visibility, setup: setup,
            extra: members.filter { !knownKeys.contains($0.0) || keptVerbatim.contains($0.0) })
    }
}
