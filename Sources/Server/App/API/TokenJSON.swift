import Shared
import Storage

/// The TOKEN object of the API: `{"id", "user", "permissions", "created", "last_used", "revoked"}` (times as
/// `YYYY-MM-DDTHH:MM:SSZ`, `null` when never used or not revoked). Never the secret or its hash.
enum TokenJSON {
    /// A token as `GET /tokens` lists it.
    static func token(_ info: TokenInfo) -> JSONValue {
        [
            "id": .int(info.id),
            "user": .string(info.user),
            "permissions": .array(info.permissions.map { .string($0.rawValue) }),
            "created": .string(info.created),
            "last_used": info.lastUsed.map(JSONValue.string) ?? .null,
            "revoked": info.revoked.map(JSONValue.string) ?? .null
        ]
    }
}
