import HTTPServer
import Shared

/// A requester's bearer token as a mirror forwards it upstream: the `Authorization` value to send, and the token's
/// SHA-256, the only form of it the mirror keeps (in `MirrorAccess`) or compares (in constant time).
///
/// Never logged: `description` shows neither the token nor its hash.
struct UpstreamCredential: Sendable, CustomStringConvertible {
    /// `Bearer <token>`, sent upstream as the `Authorization` header.
    let header: String
    /// SHA-256 of the token (as the server keys its own token cache).
    let key: [UInt8]

    /// The credential of a request with a well-formed `Authorization: Bearer <token>`; nil without one, and for a
    /// token of this server's own (`caller` is then `.token`): only tokens the mirror does not know go upstream.
    init?(_ head: HTTPRequestHead, caller: Caller) {
        if case .token = caller { return nil }
        guard let value = head.headers["Authorization"], case .success(let token) = Authenticator.bearerToken(value)
        else {
            return nil
        }
        header = "Bearer \(token)"
        key = Crypto.sha256(Array(token.utf8))
    }

    /// The `Authorization` header to send upstream.
    var headers: [(String, String)] { [("Authorization", header)] }

    /// True when both stand for the same token (compared by hash, in constant time).
    func same(as other: UpstreamCredential?) -> Bool {
        guard let other else { return false }
        return Crypto.constantTimeEqual(key, other.key)
    }

    var description: String { "a bearer token" }
}
