/// Who may download a blob: anyone (`public`) or holders of `download.internal` (`internal`).
public enum Visibility: String, Sendable, CaseIterable, Codable {
    case `public`
    case `internal`

    /// Parses a visibility, accepting tooltool's older aliases `pub` and `pvt` on input.
    public init?(name: String) {
        switch name {
        case "public", "pub": self = .public
        case "internal", "pvt": self = .internal
        default: return nil
        }
    }

    /// The top-level store folder that holds blobs of this visibility (`public` or `pvt`).
    public var folderName: String {
        switch self {
        case .public: return "public"
        case .internal: return "pvt"
        }
    }

    /// The permission needed to download a blob of this visibility.
    public var downloadPermission: Permission {
        switch self {
        case .public: return .downloadPublic
        case .internal: return .downloadInternal
        }
    }

    /// The permission needed to upload a blob of this visibility.
    public var uploadPermission: Permission {
        switch self {
        case .public: return .uploadPublic
        case .internal: return .uploadInternal
        }
    }

    /// The other visibility.
    public var other: Visibility { self == .public ? .internal : .public }
}
