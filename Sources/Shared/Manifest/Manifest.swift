/// Why a manifest was refused. `record` is the 0-based index of the record, nil for the document itself.
public struct ManifestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Index of the offending record, nil when the document as a whole is wrong.
    public let record: Int?
    /// The field at fault, when there is one.
    public let field: String?
    /// What was expected and what was got.
    public let reason: String

    public init(record: Int?, field: String?, reason: String) {
        self.record = record
        self.field = field
        self.reason = reason
    }

    public var description: String {
        var parts: [String] = []
        if let record { parts.append("record \(record)") }
        if let field { parts.append("field \"\(field)\"") }
        return parts.isEmpty ? "manifest: \(reason)" : "manifest \(parts.joined(separator: ", ")): \(reason)"
    }
}

/// A tooltool manifest: the JSON list of files a build needs.
public struct Manifest: Equatable, Sendable {
    /// The records, in file order.
    public var records: [ManifestRecord]

    public init(records: [ManifestRecord] = []) { self.records = records }

    /// The manifest as tooltool writes it: `json.dumps(records, indent=2, separators=(",", ": "))`, no final newline.
    public func serialized() -> String {
        JSONWriter.write(.array(records.map(\.json)), style: .pretty)
    }

    /// Reads a manifest strictly: every record must be whole and valid.
    public init(parsing bytes: some Collection<UInt8>) throws(ManifestError) {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw ManifestError(record: nil, field: nil, reason: error.description)
        }
        guard let elements = document.arrayValue else {
            throw ManifestError(record: nil, field: nil, reason: "must be a JSON array of records, got \(document.typeName)")
        }
        var records: [ManifestRecord] = []
        var byName: [String: Int] = [:]
        for (index, element) in elements.enumerated() {
            let record = try Manifest.record(element, index: index)
            if let first = byName[record.filename], records[first].digest != record.digest {
                throw ManifestError(record: index, field: "filename",
                                    reason: "\(record.filename.debugDescription) is already record \(first) with another digest")
            }
            byName[record.filename] = byName[record.filename] ?? index
            records.append(record)
        }
        self.records = records
    }

    /// Reads a manifest from text.
    public init(parsing text: String) throws(ManifestError) {
        try self.init(parsing: Array(text.utf8))
    }

    private static let knownKeys: Set<String> = ["filename", "size", "algorithm", "digest", "unpack", "version", "visibility", "setup"]

    private static func record(_ value: JSONValue, index: Int) throws(ManifestError) -> ManifestRecord {
        func fail(_ field: String?, _ reason: String) -> ManifestError {
            ManifestError(record: index, field: field, reason: reason)
        }
        guard let members = value.objectValue else {
            throw fail(nil, "must be an object, got \(value.typeName)")
        }
        func required(_ key: String) throws(ManifestError) -> JSONValue {
            guard let member = value[key] else { throw fail(key, "is missing") }
            return member
        }
        guard let filename = try required("filename").stringValue else {
            throw fail("filename", "must be a string, got \(value["filename"]!.typeName)")
        }
        if let problem = ManifestRecord.filenameProblem(filename) { throw fail("filename", problem) }

        guard case .int(let size) = try required("size") else {
            throw fail("size", "must be an integer, got \(value["size"]!.typeName)")
        }
        guard size >= 0 else { throw fail("size", "must not be negative, got \(size)") }

        guard let algorithmName = try required("algorithm").stringValue else {
            throw fail("algorithm", "must be a string, got \(value["algorithm"]!.typeName)")
        }
        let algorithm: HashAlgorithm
        do { algorithm = try HashAlgorithm(name: algorithmName) } catch { throw fail("algorithm", error.description) }

        guard let digestText = try required("digest").stringValue else {
            throw fail("digest", "must be a string, got \(value["digest"]!.typeName)")
        }
        let digest: Digest
        do { digest = try Digest(parsing: digestText, algorithm: algorithm) } catch { throw fail("digest", error.description) }

        var unpack = false
        if let member = value["unpack"] {
            switch member {
            case .bool(let b): unpack = b
            case .null: unpack = false
            default: throw fail("unpack", "must be a boolean, got \(member.typeName)")
            }
        }
        let version = try optionalString(value, "version", fail)
        let setup = try optionalString(value, "setup", fail)
        var visibility: Visibility?
        if let member = value["visibility"], member != .null {
            guard let name = member.stringValue, let parsed = Visibility(name: name) else {
                throw fail("visibility", "must be \"public\" or \"internal\", got \(JSONWriter.write(member))")
            }
            visibility = parsed
        }
        return ManifestRecord(filename: filename, size: size, digest: digest, unpack: unpack, version: version,
                              visibility: visibility, setup: setup,
                              extra: members.filter { !knownKeys.contains($0.0) })
    }

    private static func optionalString(_ value: JSONValue, _ key: String,
                                       _ fail: (String?, String) -> ManifestError) throws(ManifestError) -> String? {
        guard let member = value[key], member != .null else { return nil }
        guard let string = member.stringValue else { throw fail(key, "must be a string, got \(member.typeName)") }
        return string
    }
}
