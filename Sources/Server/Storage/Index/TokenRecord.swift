import Shared

/// An authenticated token: what a request may do and on whose behalf.
public struct TokenRecord: Sendable, Equatable {
    /// The token's id (for `touch` and `revokeToken`).
    public let id: Int64
    /// The user it was made for (a batch's author).
    public let user: String
    /// What it may do.
    public let permissions: Set<Permission>
}

/// A token as `token list` shows it: never the token or its hash.
public struct TokenInfo: Sendable, Equatable {
    /// The token's id.
    public let id: Int64
    /// The user it was made for.
    public let user: String
    /// What it may do, in `Permission` order.
    public let permissions: [Permission]
    /// When it was made, `YYYY-MM-DDTHH:MM:SSZ`.
    public let created: String
    /// When it was last used (as recorded by `touch`), if ever.
    public let lastUsed: String?
    /// When it was revoked, if it was.
    public let revoked: String?
}

extension Permission {
    /// Parses the index's comma-separated permission list.
    static func parseList(_ text: String) throws(IndexError) -> [Permission] {
        var result: [Permission] = []
        for name in text.split(separator: ",") {
            guard let permission = Permission(name: String(name)) else {
                throw IndexError.corrupt("unknown permission \(String(name).debugDescription) in tokens.permissions")
            }
            result.append(permission)
        }
        return result.sorted()
    }

    /// Writes a permission list the way the index stores it: sorted, comma-separated.
    static func formatList(_ permissions: some Sequence<Permission>) -> String {
        Set(permissions).sorted().map(\.rawValue).joined(separator: ",")
    }
}
