/// What a token may do. Names as in tooltool's relengapi (`tooltool.download.public` without the prefix).
public enum Permission: String, Sendable, CaseIterable, Codable, Comparable {
    case downloadPublic = "download.public"
    case downloadInternal = "download.internal"
    case uploadPublic = "upload.public"
    case uploadInternal = "upload.internal"
    case manage = "manage"

    /// Parses a permission name, also accepting relengapi's `tooltool.` prefix.
    public init?(name: String) {
        let bare = name.hasPrefix("tooltool.") ? String(name.dropFirst("tooltool.".count)) : name
        self.init(rawValue: bare)
    }

    public static func < (lhs: Permission, rhs: Permission) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
