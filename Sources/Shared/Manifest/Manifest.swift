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

    /// Reads a manifest as tooltool.py 1.4.0 does (see `reading(_:)`), dropping the notes on what was read leniently.
    public init(parsing bytes: some Collection<UInt8>) throws(ManifestError) {
        self = try Manifest.reading(bytes).manifest
    }

    /// Reads a manifest from text.
    public init(parsing text: String) throws(ManifestError) {
        try self.init(parsing: Array(text.utf8))
    }
}
