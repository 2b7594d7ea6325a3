/// One entry of a tooltool manifest: a file the build needs, named by its size and digest.
public struct ManifestRecord: Equatable, Sendable {
    /// A bare file name: no `/`, `\`, NUL, and not `.` or `..`.
    public var filename: String
    /// Size in bytes; nil for a manifest's `"size": null`, which tooltool.py reads as "do not check the size": the
    /// digest alone then decides.
    public var size: Int64?
    /// Digest of the content (carries the algorithm).
    public var digest: Digest
    /// Unpack the archive after fetching.
    public var unpack: Bool
    /// Free-form version text; written only when non-empty.
    public var version: String?
    /// Who may download it; written only when set.
    public var visibility: Visibility?
    /// A setup script name (tooltool's `setup`); written only when non-empty.
    public var setup: String?
    /// Keys we do not know, kept in their order and written back after the known ones.
    public var extra: [(String, JSONValue)]

    public init(
        filename: String, size: Int64?, digest: Digest, unpack: Bool = false, version: String? = nil,
        visibility: Visibility? = nil, setup: String? = nil, extra: [(String, JSONValue)] = []
    ) {
        self.filename = filename
        self.size = size
        self.digest = digest
        self.unpack = unpack
        self.version = version
        self.visibility = visibility
        self.setup = setup
        self.extra = extra
    }

    /// The algorithm of the digest.
    public var algorithm: HashAlgorithm { digest.algorithm }

    public static func == (lhs: ManifestRecord, rhs: ManifestRecord) -> Bool {
        lhs.filename == rhs.filename && lhs.size == rhs.size && lhs.digest == rhs.digest && lhs.unpack == rhs.unpack
            && (lhs.version ?? "") == (rhs.version ?? "") && lhs.visibility == rhs.visibility
            && (lhs.setup ?? "") == (rhs.setup ?? "") && JSONValue.object(lhs.extra) == JSONValue.object(rhs.extra)
    }

    /// The record as tooltool writes it: known keys in tooltool's order, then unknown ones.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("filename", .string(filename)),
            ("size", size.map { .int($0) } ?? .null),
            ("algorithm", .string(digest.algorithm.rawValue)),
            ("digest", .string(digest.hex))
        ]
        if unpack { members.append(("unpack", true)) }
        if let version, !version.isEmpty { members.append(("version", .string(version))) }
        if let visibility { members.append(("visibility", .string(visibility.rawValue))) }
        if let setup, !setup.isEmpty { members.append(("setup", .string(setup))) }
        members.append(contentsOf: extra)
        return .object(members)
    }

    /// Checks that `name` is a bare file name; returns what is wrong, or nil.
    public static func filenameProblem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name == "." || name == ".." { return "must not be \(name.debugDescription)" }
        if name.contains("/") { return "must not contain '/', got \(name.debugDescription)" }
        if name.contains("\\") { return "must not contain '\\', got \(name.debugDescription)" }
        if name.unicodeScalars.contains("\0") { return "must not contain a NUL byte" }
        return nil
    }
}
