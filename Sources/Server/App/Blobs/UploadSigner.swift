import Shared

/// Signs upload URLs so a PUT can be authorised without a token: HMAC-SHA256 over the method, the digest, the
/// visibility and the expiry, under the server's secret (kept in SQLite).
struct UploadSigner: Sendable {
    let secret: [UInt8]

    /// The hex signature for a PUT of `digest` with `visibility`, good until `expires` (Unix seconds).
    func signature(digest: Digest, visibility: Visibility, expires: Int64) -> String {
        Hex.encode(Crypto.hmacSHA256(key: secret, message: message(digest, visibility, expires)))
    }

    /// True when `signature` is what we would have made for these values; compared in constant time.
    func verify(digest: Digest, visibility: Visibility, expires: Int64, signature: String) -> Bool {
        guard let given = Hex.decode(signature) else { return false }
        return Crypto.constantTimeEqual(
            given, Crypto.hmacSHA256(key: secret, message: message(digest, visibility, expires)))
    }

    private func message(_ digest: Digest, _ visibility: Visibility, _ expires: Int64) -> String {
        "PUT\n\(Routes.blob(digest))\n\(visibility.rawValue)\n\(expires)"
    }
}
