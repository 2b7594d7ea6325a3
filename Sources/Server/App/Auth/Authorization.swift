import HTTPServer
import Shared

/// The answers to a caller who may not do what they asked.
enum Authorization {
    /// nil when `caller` holds `permission`; else 401 (no or bad credentials) or 403 (valid token, missing permission).
    static func require(_ permission: Permission, _ caller: Caller) -> HTTPResponse? {
        switch caller {
        case .token(_, let user, let permissions):
            if permissions.contains(permission) { return nil }
            return APIResponse.error(
                .forbidden, .forbidden, "this token lacks the \(permission.rawValue) permission", user: user)
        case .anonymous:
            return unauthorized("this needs a token with the \(permission.rawValue) permission")
        case .invalid(let reason):
            return unauthorized(reason)
        }
    }

    /// 401 with `WWW-Authenticate: Bearer realm="tooltool"`.
    static func unauthorized(_ description: String) -> HTTPResponse {
        APIResponse.error(
            .unauthorized, .unauthorized, description, headers: [("WWW-Authenticate", "Bearer realm=\"tooltool\"")])
    }
}
