/// Something in a manifest that is read the way tooltool.py 1.4.0 reads it although it is not what tooltool
/// documents: a member of another type (`"unpack": "True"`), or a record tooltool.py skips. The client prints them
/// as one warning per manifest; nothing here fails a command.
public struct ManifestNote: Equatable, Sendable, CustomStringConvertible {
    /// What was found.
    public enum Kind: Equatable, Sendable {
        /// `member` holds `found` (its JSON text, shortened); `readAs` says how it was read ("taken as true").
        case member(String, found: String, readAs: String)
        /// The element is not a record tooltool.py reads (not an object, or a required member missing): skipped.
        case skipped(reason: String)
    }

    /// 0-based index of the element in the manifest's array.
    public let record: Int
    /// The record's filename when it has a usable one.
    public let filename: String?
    /// What was found and how it was read.
    public let kind: Kind

    public init(record: Int, filename: String?, kind: Kind) {
        self.record = record
        self.filename = filename
        self.kind = kind
    }

    /// `member` holding `value`, read as `readAs` ("taken as true", "kept as written").
    static func member(
        _ record: Int, _ filename: String, _ member: String, _ value: JSONValue, readAs: String
    ) -> ManifestNote {
        var found = JSONWriter.write(value)
        if found.count > 40 { found = String(found.prefix(37)) + "..." }
        return ManifestNote(record: record, filename: filename, kind: .member(member, found: found, readAs: readAs))
    }

    public var description: String {
        let place = "record \(record)" + (filename.map { " (\($0))" } ?? "")
        switch kind {
        case .member(let member, let found, let readAs): return "\(place) \"\(member)\": \(found) \(readAs)"
        case .skipped(let reason): return "\(place) skipped: \(reason)"
        }
    }
}
