import Shared

/// Who made a request, as far as its credentials say.
enum Caller: Sendable {
    /// No `Authorization` header.
    case anonymous
    /// A valid, unrevoked token.
    case token(id: Int64, user: String, permissions: Set<Permission>)
    /// Credentials that do not check out (unknown or revoked token, other scheme): 401 on every route.
    case invalid(reason: String)

    /// The user name for the access log and batch authors.
    var user: String? {
        if case .token(_, let user, _) = self { return user }
        return nil
    }

    /// True when the caller holds `permission`.
    func has(_ permission: Permission) -> Bool {
        if case .token(_, _, let permissions) = self { return permissions.contains(permission) }
        return false
    }
}
